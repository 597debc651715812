// `cmesh cp`'s tars: a local file or directory packed under one root entry, and an engine archive extracted onto the
// host without letting an entry escape the destination.

import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { CmeshError } from '../daemon/api/errors.ts';

/** Packs `local` (a file or a directory, recursively) under its own name as the archive's root entry. */
export async function packPath(local: string, cwd: string): Promise<Buffer> {
  const abs = resolve(cwd, local);
  const info = await lstat(abs).catch(() => undefined);
  if (!info) throw new CmeshError('CMESH_E_USAGE', `cp: ${local} does not exist`);
  const p = pack();
  const chunks: Buffer[] = [];
  const ended = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  const add = async (path: string, name: string): Promise<void> => {
    const st = await lstat(path);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      p.entry({ name: `${name}/`, type: 'directory', mode, mtime: st.mtime });
      for (const child of (await readdir(path)).sort()) await add(join(path, child), `${name}/${child}`);
    } else if (st.isSymbolicLink()) {
      p.entry({ name, type: 'symlink', linkname: await readlink(path), mode, mtime: st.mtime });
    } else if (st.isFile()) {
      p.entry({ name, mode, mtime: st.mtime }, await readFile(path));
    }
  };
  await add(abs, basename(abs));
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/**
 * Extracts an archive whose root entry is the copied file or directory. Into an existing directory it keeps its name
 * (`cp web:/etc/hosts ./out/` → ./out/hosts); otherwise `dest` is its new name. Returns the path written.
 */
export async function extractInto(tar: Readable, dest: string, cwd: string): Promise<string> {
  const target = resolve(cwd, dest);
  const intoDir = (await stat(target).catch(() => undefined))?.isDirectory() === true;
  let written = target;
  const ex = extract();
  const work = (async () => {
    for await (const entry of ex) {
      const [root, ...rest] = entry.header.name.replace(/\/$/, '').split('/');
      const base = intoDir ? join(target, root ?? '') : target;
      const out = resolve(base, ...rest);
      // A hostile or broken archive must not write outside the destination (`../../etc/passwd`).
      if (out !== base && !out.startsWith(base + sep)) throw new CmeshError('CMESH_E_USAGE', `cp: archive entry ${entry.header.name} leaves ${dest}`);
      if (rest.length === 0) written = out;
      if (entry.header.type === 'directory') {
        await mkdir(out, { recursive: true });
        entry.resume();
      } else if (entry.header.type === 'file') {
        await mkdir(dirname(out), { recursive: true });
        await pipeline(entry, createWriteStream(out, { mode: entry.header.mode ?? 0o644 }));
      } else {
        // Links and devices are not copied: say which, rather than leaving a silent gap.
        process.stderr.write(`cmesh cp: skipped ${entry.header.type} ${relative(base, out) || entry.header.name}\n`);
        entry.resume();
      }
    }
  })();
  await pipeline(tar, ex);
  await work;
  return written;
}
