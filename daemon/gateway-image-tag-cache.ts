// Remembers the gateway image's content tag across daemon starts. The tag hashes the host's node binary (~100 MB):
// ~0.2 s of CPU at every daemon start, for a tag that changes only when one of its inputs does. So a small JSON file in
// CMESH_HOME maps a key of the inputs' identity to the tag, and the contents are hashed again only when the key changes.
// For a file on disk the key holds its path, size, mtime, ctime, inode and device: writing it changes ctime (which no
// utimes can set back), replacing it changes the inode. The small inputs (Dockerfile, supervisor bundle) are keyed by
// their bytes, so a new cmesh version misses the cache once.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from './api/atomic-file.ts';

/** A file of the gateway image's build context: small ones in memory, the host's node and libraries by path. */
export type ContextFile = { name: string; mode: number } & ({ data: Buffer } | DiskFile);

/** A file taken from disk, with the identity its stat gave when the context was listed. */
export interface DiskFile {
  path: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** Bump when the key's make-up or the tag's formula changes (old entries then simply miss). 2: files by digest. */
const KEY_VERSION = 2;
/** Entries kept (most recent first): a few cmesh versions sharing one home do not evict each other at every start. */
const MAX_ENTRIES = 4;

export async function fromDisk(name: string, path: string, mode = 0o755): Promise<ContextFile> {
  const s = await stat(path);
  return { name, mode, path, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, dev: s.dev };
}

/** The identity of the inputs: equal keys mean the content tag over them is equal too. */
export function inputKey(files: ContextFile[], baseId: string | undefined): string {
  const h = createHash('sha256').update(`key=${KEY_VERSION} base=${baseId ?? 'scratch'}\n`);
  for (const f of files) {
    h.update(`\0${f.name}\0${f.mode}\0`);
    if ('data' in f) h.update(`data\0${f.data.length}\0`).update(f.data);
    else h.update(`disk\0${f.path}\0${f.size}\0${f.mtimeMs}\0${f.ctimeMs}\0${f.ino}\0${f.dev}\0`);
  }
  return h.digest('hex');
}

type Entry = { key: string; tag: string };

/** The cache file's entries; a missing, unreadable or malformed file is an empty cache (it is only a shortcut). */
async function readEntries(file: string): Promise<Entry[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return [];
  }
  const entries = (raw as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) return [];
  return entries.filter((e): e is Entry => typeof e?.key === 'string' && typeof e?.tag === 'string');
}

/**
 * The tag cached under `key` in `file`, else `compute()`'s, then cached. A cache that cannot be written costs the
 * hash at the next start, nothing more.
 */
export async function cachedTag(file: string, key: string, compute: () => Promise<string>, log?: (line: string) => void): Promise<string> {
  const entries = await readEntries(file);
  const hit = entries.find((e) => e.key === key);
  if (hit !== undefined) return hit.tag;
  const tag = await compute();
  const next = [{ key, tag }, ...entries.filter((e) => e.key !== key)].slice(0, MAX_ENTRIES);
  try {
    await writeFileAtomic(file, `${JSON.stringify({ entries: next }, null, 2)}\n`, { mode: 0o600 });
  } catch (err) {
    log?.(`gateway image: cannot cache its tag in ${file}: ${(err as Error).message}`);
  }
  return tag;
}
