// Feeds a file on disk into a hash through one reused buffer, and remembers a file's digest for the process's life. A
// read stream would hand the hash a fresh 64 KiB buffer per chunk: hashing the host's ~100 MB node binary (the gateway
// image's content tag, at a daemon start whose tag cache misses) left ~20 MiB of malloc arena in the daemon's RSS for
// good; one 1 MiB buffer leaves ~1 MiB. The gateway image's tag and the gateway runtime's name both digest that binary:
// the memo makes a cold start read it once, not twice.

import { createHash, type Hash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';

const CHUNK = 1 << 20;

/** Updates `hash` with the bytes of the file at `path`, in order; never holds more than one chunk. */
export async function hashFile(hash: Hash, path: string): Promise<void> {
  const fh = await open(path, 'r');
  // Outside node's buffer pool: the chunk is dropped whole when the hash is done.
  const buf = Buffer.allocUnsafeSlow(CHUNK);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) return;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

/** The sha256 of a file's bytes. */
export type FileDigest = (path: string) => Promise<Buffer>;

/**
 * A file's identity as stat gives it: writing the file changes its ctime (which no utimes can set back), replacing it
 * changes its inode, so an equal identity means the same bytes (as gateway-image-tag-cache.ts keys its tags).
 */
async function identity(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

/**
 * A digest that reads a file only when its identity changed since the last digest of that path (one entry a path, so
 * the memo holds as many entries as files asked about). Callers asking at once share one read. A file that changed
 * while it was read is not remembered. `read` feeds the hash (a test counts the reads).
 */
export function memoFileDigest(read: (hash: Hash, path: string) => Promise<void> = hashFile): FileDigest {
  const memo = new Map<string, { id: string; digest: Promise<Buffer> }>();
  return async (path) => {
    const id = await identity(path);
    const hit = memo.get(path);
    if (hit?.id === id) return hit.digest;
    const entry = { id, digest: sha256Of(read, path) };
    memo.set(path, entry);
    const forget = (): void => {
      if (memo.get(path) === entry) memo.delete(path);
    };
    try {
      const digest = await entry.digest;
      if ((await identity(path).catch(() => undefined)) !== id) forget();
      return digest;
    } catch (err) {
      forget();
      throw err;
    }
  };
}

async function sha256Of(read: (hash: Hash, path: string) => Promise<void>, path: string): Promise<Buffer> {
  const h = createHash('sha256');
  await read(h, path);
  return h.digest();
}

/** The daemon's one memo: the image tag and the runtime name of one start hash the host's node once between them. */
export const fileDigest: FileDigest = memoFileDigest();
