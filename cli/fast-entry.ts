// Entry of the CLI's fast bundle: one CommonJS file that bin/cmesh.js requires for `ps` and `up -d` before node's ESM
// loader starts (bin/bundle-build-options.mjs: fastBuildOptions). It runs cli/fast-path.ts, the same code the full
// CLI's `ps` and `up -d` run, only on a project the project cache answers; anything else goes to the full CLI.

import { defaultContext } from './cli-context.ts';
import { FAST_PATH_MISS, runFastPath } from './fast-path.ts';
import type { OutStream } from './output.ts';
import { installProcessHooks } from './process-hooks.ts';

/**
 * The exit code, or undefined when the full CLI must run the command. `build` names the CLI's code (the bundle dir),
 * as bin/launch.mjs names it for the full CLI: the project cache's entries are per build.
 */
export async function run(argv: string[], build: string): Promise<number | undefined> {
  (globalThis as { cmeshBuild?: string }).cmeshBuild = build;
  installProcessHooks();
  let wrote = false;
  const watched = (stream: OutStream): OutStream => ({
    write: (chunk: string) => {
      wrote = true;
      return stream.write(chunk);
    },
    get isTTY() {
      return stream.isTTY;
    },
  });
  const ctx = defaultContext();
  try {
    return await runFastPath(argv, { ...ctx, stdout: watched(ctx.stdout), stderr: watched(ctx.stderr) }, { cachedOnly: true });
  } catch (err) {
    // A module outside this bundle was reached (the project changed under a cached `up -d`): the full CLI runs the
    // command from the start, which is only sound while nothing of this run was written.
    if ((err as { code?: unknown } | null)?.code === FAST_PATH_MISS && !wrote) return undefined;
    throw err;
  }
}
