// Project name precedence and Compose's naming rule ([a-z0-9][a-z0-9_-]*); explicit names must already comply.

import { basename } from 'node:path';

const VALID = /^[a-z0-9][a-z0-9_-]*$/;

/** Compose's NormalizeProjectName: lowercase, drop other characters, trim leading '_'/'-'. */
export function normalizeProjectName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

export function isValidProjectName(name: string): boolean {
  return VALID.test(name);
}

export type NameSource = 'flag' | 'file' | 'env' | 'directory';

/** Compose's precedence: -p, then COMPOSE_PROJECT_NAME, then top-level `name:`, then the project directory's name (normalized). */
export function pickProjectName(opts: { flag?: string; file?: string; env?: string; projectDir: string }): { name: string; source: NameSource } {
  if (opts.flag !== undefined && opts.flag !== '') return { name: opts.flag, source: 'flag' };
  if (opts.env !== undefined && opts.env !== '') return { name: opts.env, source: 'env' };
  if (opts.file !== undefined && opts.file !== '') return { name: opts.file, source: 'file' };
  return { name: normalizeProjectName(basename(opts.projectDir)), source: 'directory' };
}
