// Host path resolution shared by volumes, build contexts, env files and watch rules.

import { isAbsolute, resolve } from 'node:path';

/** Compose's test for "this volume source is a host path, not a named volume". */
export function looksLikePath(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~') || /^[A-Za-z]:[\\/]/.test(source);
}

/** Expands `~` and resolves relative paths against the project directory. */
export function resolveHostPath(p: string, projectDir: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return resolve(homeDir, p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(projectDir, p);
}
