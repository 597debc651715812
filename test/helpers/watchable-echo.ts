// The "watchable echo app" that watch/build tests and bench/watch.ts edit: the echo fixture's server with its VERSION
// in source code (version.mjs), so a developer's save is what changes it and a rebuild is what serves it.

import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './docker.ts';

export const WATCHABLE_ECHO_DOCKERFILE = 'FROM cmesh/node:local\nWORKDIR /app\nCOPY *.mjs /app/\nENV PORT=3000\nUSER nobody\nCMD ["node", "/app/main.mjs"]\n';

export const versionSource = (version: string): string => `export const VERSION = '${version}';\n`;

/** Writes the app into `dir` (created if needed): the echo server files, main.mjs, version.mjs and its Dockerfile. */
export async function writeWatchableEcho(dir: string, version: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of ['server.mjs', 'ws.mjs', 'healthcheck.mjs']) await copyFile(join(ROOT, 'fixtures/docker/echo', f), join(dir, f));
  await writeFile(join(dir, 'main.mjs'), "import { VERSION } from './version.mjs';\nprocess.env.VERSION = VERSION;\nawait import('./server.mjs');\n");
  await writeFile(join(dir, 'version.mjs'), versionSource(version));
  await writeFile(join(dir, 'Dockerfile'), WATCHABLE_ECHO_DOCKERFILE);
}
