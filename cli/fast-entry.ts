// Entry of the CLI's fast bundle: one CommonJS file that bin/cmesh.js requires for `ps` and `up -d` before node's ESM
// loader starts (bin/bundle-build-options.mjs: fastBuildOptions). It runs cli/fast-path.ts, the same code the full
// CLI's `ps` and `up -d` run, only on a project the project cache answers; anything else goes to the full CLI.

import { defaultContext } from './cli-context.ts';
import { onFirstResponse } from './fast-http.ts';
import { isMiss, runFastPath } from './fast-path.ts';
import type { OutStream } from './output.ts';
import { installProcessHooks } from './process-hooks.ts';

/**
 * The exit code, or undefined when the full CLI must run the command. `build` names the CLI's code (the bundle dir),
 * as bin/launch.mjs names it for the full CLI: the project cache's entries are per build.
 */
export async function run(argv: string[], build: string): Promise<number | undefined> {
  (globalThis as { cmeshBuild?: string }).cmeshBuild = build;
  installProcessHooks();
  // Output is held until the daemon first answers (cli/fast-http.ts) or the command ends: a `ps` prints its config
  // warnings before asking, and an answer the fast client cannot read must still leave the full CLI a clean slate.
  const held: Array<[OutStream, string]> = [];
  let wrote = false;
  let holding = true;
  const release = (): void => {
    holding = false;
    for (const [stream, chunk] of held.splice(0)) stream.write(chunk);
  };
  onFirstResponse(release);
  const watched = (stream: OutStream): OutStream => ({
    write: (chunk: string) => {
      if (holding) return held.push([stream, chunk]) > 0;
      wrote = true;
      return stream.write(chunk);
    },
    get isTTY() {
      return stream.isTTY;
    },
  });
  const ctx = defaultContext();
  try {
    const code = await runFastPath(argv, { ...ctx, stdout: watched(ctx.stdout), stderr: watched(ctx.stderr) }, { cachedOnly: true });
    release();
    return code;
  } catch (err) {
    // A module outside this bundle was reached (the project changed under a cached `up -d`), or a daemon answer
    // cli/fast-http.ts cannot read: the full CLI runs the command from the start, which is only sound while nothing
    // of this run was written.
    if (isMiss(err) && !wrote) return undefined;
    release();
    throw err;
  }
}
