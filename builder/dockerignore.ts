// .dockerignore with Docker's semantics (moby's patternmatcher, ported by @balena/dockerignore), shared by the
// context packer and the file watcher so both agree on what "in the context" means.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { CmeshError } from '../daemon/api/errors.ts';

export interface DockerIgnore {
  /** True when `rel` (context-relative, `/`-separated, no leading `./`) is excluded. */
  ignores(rel: string): boolean;
  /** Whether any `!` exception exists: without one, nothing below an excluded directory can come back. */
  readonly hasExceptions: boolean;
  /** The cleaned patterns, in file order (for diagnostics). */
  readonly patterns: readonly string[];
}

const BOM = '\uFEFF';

/**
 * Parses .dockerignore text. Docker reads it line by line: a `#` in column 1 starts a comment, lines are trimmed,
 * patterns are cleaned like Go's filepath.Clean and a leading `/` is dropped; the last matching line wins, and a
 * pattern matching a parent directory excludes everything below it.
 */
export function parseDockerignore(text: string): DockerIgnore {
  // Docker strips a UTF-8 BOM from the first line; the library does not.
  const lines = (text.startsWith(BOM) ? text.slice(BOM.length) : text).split(/\r?\n/);
  // Matching is case-sensitive on Linux, where the engine runs; the library defaults to case-insensitive.
  // The package is CommonJS with `module.exports.default = factory`; under NodeNext that is how its types line up.
  const matcher = dockerignore.default({ ignorecase: false }).add(lines);
  const patterns = lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  return {
    ignores: (rel) => rel !== '' && rel !== '.' && matcher.ignores(rel),
    hasExceptions,
    patterns,
  };
}

/** An ignore-nothing matcher, for contexts without a .dockerignore. */
export const NO_IGNORE: DockerIgnore = { ignores: () => false, hasExceptions: false, patterns: [] };

/** Reads `<contextDir>/.dockerignore`; a missing file means nothing is ignored, an unreadable one is an error. */
export async function loadDockerignore(contextDir: string): Promise<DockerIgnore> {
  const file = join(contextDir, '.dockerignore');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return NO_IGNORE;
    throw new CmeshError('CMESH_E_BUILD_CONTEXT', `cannot read ${file}: ${code ?? (err as Error).message}`, {
      hint: 'make the .dockerignore readable, or remove it',
      cause: err,
      details: { path: file },
    });
  }
  return parseDockerignore(text);
}
