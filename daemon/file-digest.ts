// Feeds a file on disk into a hash through one reused buffer. A read stream would hand the hash a fresh 64 KiB buffer
// per chunk: hashing the host's ~100 MB node binary (the gateway image's content tag, at a daemon start whose tag
// cache misses) left ~20 MiB of malloc arena in the daemon's RSS for good; one 1 MiB buffer leaves ~1 MiB.

import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

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
