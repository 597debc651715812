// Shared helpers for the config tests (not a test file itself): load inline YAML and catch the CmeshError.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CmeshError } from '../api/errors.ts';
import type { LoadedProject, ServiceSpec } from '../api/project.ts';
import { loadProjectFromSources, type SourceLoadOptions } from './load.ts';

export const FIXTURES = new URL('../../fixtures/configs/', import.meta.url).pathname;

export function fixture(rel: string): { file: string; text: string } {
  const file = join(FIXTURES, rel);
  return { file, text: readFileSync(file, 'utf8') };
}

export function load(text: string, opts: SourceLoadOptions = {}, file = '/proj/compose.yaml'): LoadedProject {
  return loadProjectFromSources([{ file, text }], opts);
}

export function service(text: string, name = 'web', opts: SourceLoadOptions = {}): ServiceSpec {
  const s = load(text, opts).project.services[name];
  assert.ok(s, `service ${name} missing`);
  return s;
}

export function loadError(text: string | { file: string; text: string }[], opts: SourceLoadOptions = {}): CmeshError {
  const sources = typeof text === 'string' ? [{ file: '/proj/compose.yaml', text }] : text;
  try {
    loadProjectFromSources(sources, opts);
  } catch (err) {
    assert.ok(err instanceof CmeshError, `expected a CmeshError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the load to fail');
}

/** `line:col path` of each issue, the compact form the position assertions compare against. */
export function where(err: CmeshError): string[] {
  return err.issues.map((i) => `${i.position?.line}:${i.position?.col} ${i.path ?? ''}`.trim());
}
