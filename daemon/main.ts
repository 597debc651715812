// Daemon entry: `node --import tsx daemon/main.ts` (what the CLI auto-starts) or `cmesh daemon run` in the foreground.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCmeshError } from './api/errors.ts';
import { startDaemon } from './daemon.ts';
import { createDockerEngine } from './engine/dockerode-engine.ts';
import { reachSetting } from './engine/replica-reach.ts';
import { createDockerSwarm } from './engine/dockerode-swarm.ts';
import { resolveHome } from './api/home.ts';
import { type MetricsAddr, parseMetricsAddr } from './metrics-server.ts';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} cmesh-daemon: ${line}\n`);
}

/** CMESH_METRICS_ADDR (default 127.0.0.1:9464, `off`); a malformed value disables metrics with a message. */
function metricsAddr(env: NodeJS.ProcessEnv): MetricsAddr | { error: string } {
  try {
    return parseMetricsAddr(env['CMESH_METRICS_ADDR']);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Runs until SIGTERM/SIGINT or POST /v1/shutdown. Resolves to the process exit code. */
export async function runDaemon(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // A stray rejection in one project's loop must not take every project down; it is logged as the bug it is.
  process.on('unhandledRejection', (err) => log(`BUG unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  // Detached from the terminal that started us: a hang-up there is not a reason to stop.
  process.on('SIGHUP', () => log('ignoring SIGHUP'));
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    const engine = createDockerEngine({ ...(env['DOCKER_HOST'] ? { host: env['DOCKER_HOST'] } : {}), reach: reachSetting(env), onReach: (d) => log(d.reason) });
    const swarm = createDockerSwarm(env['DOCKER_HOST'] || undefined);
    daemon = await startDaemon({ home: resolveHome(env), engine, swarm, version: version(), log, metrics: metricsAddr(env) });
    // East-west is on by default: have the gateway image ready before the first `up` asks for it.
    daemon.mesh.eastWest?.prepare();
  } catch (err) {
    if (isCmeshError(err)) {
      log(`cannot start: [${err.code}] ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`);
      return err.exitCode;
    }
    throw err;
  }
  const stop = (signal: string) => () => {
    log(`received ${signal}`);
    void daemon.close();
  };
  process.once('SIGTERM', stop('SIGTERM'));
  process.once('SIGINT', stop('SIGINT'));
  await daemon.closed;
  return 0;
}

const entry = process.argv[1] ? resolve(process.argv[1]) : '';
if (entry === fileURLToPath(import.meta.url)) {
  runDaemon().then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(`BUG: ${(err as Error)?.stack ?? String(err)}`);
      process.exit(70);
    },
  );
}
