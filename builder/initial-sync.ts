// develop.watch `initial_sync`: every file a sync rule covers (its ignore/include and the build context's
// .dockerignore applied), as `add` changes with their container paths, so the replicas start from the host's tree.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CmeshError } from '../daemon/api/errors.ts';
import { type ChangedFile, type CompiledRule, containerPathFor, ruleMatches, ruleMayMatch } from './watch-rules.ts';

/** A tree this big is not a source tree; syncing it file by file at every watch start would be a mistake. */
export const MAX_INITIAL_SYNC_FILES = 20_000;

export async function initialSyncFiles(rule: CompiledRule): Promise<ChangedFile[]> {
  const out: ChangedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      // A rule whose path is a single file, or not there yet: nothing to walk.
      if (err.code === 'ENOTDIR' || err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (entries === undefined) {
      if (dir === rule.path && ruleMatches(rule, dir)) add(dir);
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (ruleMayMatch(rule, abs, false)) await walk(abs);
      } else if (e.isFile() && ruleMatches(rule, abs)) add(abs);
    }
  };
  const add = (abs: string): void => {
    if (out.length >= MAX_INITIAL_SYNC_FILES) {
      throw new CmeshError('CMESH_E_BUILD_CONTEXT', `initial_sync of ${rule.path} covers more than ${MAX_INITIAL_SYNC_FILES} files`, {
        hint: 'narrow the rule with `include`/`ignore`, or drop initial_sync',
      });
    }
    const containerPath = containerPathFor(rule, abs);
    out.push({ path: abs, kind: 'add', ...(containerPath ? { containerPath } : {}) });
  };
  await walk(rule.path);
  return out;
}
