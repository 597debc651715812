// Watch `sync`: copies changed files into every replica with one tar per container, and deletes removed ones.

import { lstat, readFile, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import type { ContainerEngine } from '../daemon/api/engine.ts';
import { CmeshError } from '../daemon/api/errors.ts';
import type { ChangedFile } from './watch.ts';

/** Paths per `rm` exec, far below ARG_MAX even for long paths. */
const RM_BATCH = 200;

export interface SyncOptions {
  engine: ContainerEngine;
  containerIds: string[];
  files: readonly ChangedFile[];
}

export interface SyncResult {
  copied: string[];
  deleted: string[];
}

/**
 * Files without a containerPath (restart-only rules) are skipped. A file that vanished between the event and now is
 * deleted rather than copied: the filesystem's current state wins over the event that announced it.
 */
export async function syncFiles(options: SyncOptions): Promise<SyncResult> {
  const { engine, containerIds } = options;
  const latest = new Map<string, ChangedFile>();
  for (const f of options.files) if (f.containerPath) latest.set(f.containerPath, f);

  const tar = pack();
  const copied: string[] = [];
  const deleted: string[] = [];
  for (const [target, f] of [...latest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const st = f.kind === 'unlink' ? undefined : await lstat(f.path).catch(() => undefined);
    if (!st) {
      deleted.push(target);
      continue;
    }
    // Tar names are relative to the extraction root `/`; parents are created by the engine as needed.
    const name = posix.normalize(target).replace(/^\/+/, '');
    // Real mtimes: dev servers inside the container (nodemon, vite) decide on mtime whether to reload.
    const base = { name, mtime: st.mtime, uid: 0, gid: 0, mode: st.mode & 0o7777 };
    if (st.isSymbolicLink()) tar.entry({ ...base, type: 'symlink', linkname: await readlink(f.path) });
    else if (st.isFile()) tar.entry({ ...base, type: 'file' }, await readFile(f.path));
    else continue; // directories appear through their files; special files are never synced
    copied.push(target);
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  // One buffer, a fresh stream per container: a Readable can only be consumed once.
  const bytes = Buffer.concat(chunks);

  const failures: string[] = [];
  await Promise.all(
    containerIds.map(async (id) => {
      try {
        if (copied.length > 0) await engine.putArchive(id, '/', Readable.from([bytes]));
        for (let i = 0; i < deleted.length; i += RM_BATCH) {
          // -r: a deleted directory arrives as one unlink event; -f: already gone is fine.
          const res = await engine.exec(id, ['rm', '-rf', '--', ...deleted.slice(i, i + RM_BATCH)]);
          if (res.exitCode !== 0) throw new Error(`rm exited ${res.exitCode}: ${res.output.trim()}`);
        }
      } catch (err) {
        failures.push(`${id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }),
  );
  if (failures.length > 0) {
    throw new CmeshError('CMESH_E_ENGINE', `syncing files into ${failures.length} of ${containerIds.length} replicas failed`, {
      hint: 'a replica may be restarting; the next change syncs again, or run `cmesh restart <service>`',
      details: { failures, copied, deleted },
    });
  }
  return { copied, deleted };
}
