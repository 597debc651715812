// `cmesh cp local svc:dest` with docker cp's rules: into `dest` when it is a directory, else as `dest` itself (the
// archive's root entry renamed). The engine's put only extracts into a directory, and would replace a directory by
// a file of the same name, so the destination is looked at first.

import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import type { ContainerEngine } from './api/engine.ts';
import { CmeshError, isCmeshError } from './api/errors.ts';

export type PathKind = 'directory' | 'file' | 'missing';

/** What `path` is in the container: the first header of its archive says (the rest of the stream is dropped). */
export async function pathKind(engine: ContainerEngine, id: string, path: string): Promise<PathKind> {
  let tar: Readable;
  try {
    tar = await engine.getArchive(id, path);
  } catch (err) {
    if (isCmeshError(err) && err.details['status'] === 404) return 'missing';
    throw err;
  }
  const ex = extract();
  tar.pipe(ex);
  try {
    for await (const entry of ex) {
      entry.resume();
      return entry.header.type === 'directory' ? 'directory' : 'file';
    }
    return 'missing';
  } finally {
    tar.destroy();
    ex.destroy();
  }
}

/** The same archive with its root entry (and everything under it) renamed to `root`. */
export function renameRoot(tar: Readable, root: string): Readable {
  const ex = extract();
  const out = pack();
  const result = new PassThrough();
  void (async () => {
    for await (const entry of ex) {
      const [, ...rest] = entry.header.name.split('/');
      const name = [root, ...rest].join('/');
      const body = out.entry({ ...entry.header, name });
      await new Promise<void>((resolve, reject) => {
        entry.pipe(body);
        body.once('finish', resolve);
        body.once('error', reject);
        entry.once('error', reject);
      });
    }
    out.finalize();
  })().catch((err: unknown) => result.destroy(err instanceof Error ? err : new Error(String(err))));
  tar.pipe(ex);
  (out as unknown as Readable).pipe(result);
  return result;
}

/** Puts the client's archive (root entry = the local file's name) at `dest` following docker cp's rules. */
export async function putAtPath(engine: ContainerEngine, id: string, dest: string, tar: Readable): Promise<string> {
  const kind = await pathKind(engine, id, dest);
  if (kind === 'directory') {
    await engine.putArchive(id, dest, tar);
    return dest;
  }
  if (dest.endsWith('/')) {
    throw new CmeshError('CMESH_E_USAGE', `cp: ${dest} is not a directory in the container`, { hint: 'drop the trailing / to copy to that name' });
  }
  const parent = posix.dirname(dest);
  if ((await pathKind(engine, id, parent)) !== 'directory') {
    throw new CmeshError('CMESH_E_USAGE', `cp: ${parent} is not a directory in the container`, { hint: 'create it first, e.g. with `cmesh exec`' });
  }
  await engine.putArchive(id, parent, renameRoot(tar, posix.basename(dest)));
  return dest;
}
