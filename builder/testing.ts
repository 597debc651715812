// Test helpers for builder/: read tars back, lay out file trees from tables, make temp dirs that clean up.

import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';

export interface TarEntry {
  name: string;
  type: string;
  mode: number;
  size: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname?: string;
  content: Buffer;
}

export async function readAll(stream: Readable | AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export async function parseTar(bytes: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const content = await readAll(entry);
      out.push({
        name: h.name,
        type: h.type ?? 'file',
        mode: h.mode ?? 0,
        size: h.size ?? 0,
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        mtime: h.mtime?.getTime() ?? -1,
        ...(h.linkname ? { linkname: h.linkname } : {}),
        content,
      });
    }
  })();
  ex.end(bytes);
  await done;
  return out;
}

/** One row of a tree table: content (file), `dir`, or a symlink target; mode applied explicitly. */
export type TreeRow = [path: string, spec: string | Buffer | { dir: true } | { link: string }, mode?: number];

export async function makeTree(root: string, rows: readonly TreeRow[]): Promise<void> {
  for (const [path, spec, mode] of rows) {
    const abs = join(root, path);
    await mkdir(dirname(abs), { recursive: true });
    if (typeof spec === 'object' && 'dir' in spec) await mkdir(abs, { recursive: true });
    else if (typeof spec === 'object' && 'link' in spec) await symlink(spec.link, abs);
    else await writeFile(abs, spec);
    if (mode !== undefined) await chmod(abs, mode);
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}
