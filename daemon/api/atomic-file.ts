// Crash-safe file replacement (tmp in the same directory + fsync + rename + directory fsync), shared by the daemon's
// state store and the local CA: whoever reads the final name sees the old file or the whole new one, never half.

import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What tmp files left by a crash look like: `<final name>.tmp-<pid>-<random>`. */
export const TMP_MARK = '.tmp-';

export interface AtomicWriteOptions {
  /** The file's mode from its creation on (a key is never readable by others, not even for a moment). */
  mode: number;
  /** Test seam: runs after the tmp file is durable and before the rename, to simulate a crash there. */
  beforeRename?: (tmpPath: string) => void | Promise<void>;
}

export async function writeFileAtomic(path: string, data: string, options: AtomicWriteOptions): Promise<void> {
  const tmp = `${path}${TMP_MARK}${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  // 'wx': a fresh file created with `mode` (never an old tmp reused with wider permissions).
  const fh = await open(tmp, 'wx', options.mode);
  try {
    await fh.writeFile(data);
    // Without fsync a power loss after rename can leave an empty file under the final name.
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await options.beforeRename?.(tmp);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/** The rename itself lives in the directory entry; fsync the directory so it survives a crash too. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r').catch(() => undefined);
  if (!dh) return;
  try {
    await dh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await dh.close();
  }
}
