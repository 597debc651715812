// `cmesh daemon start|stop|status|logs` (and hidden `run`, the foreground daemon): manage the per-user daemon.

import { open, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { DaemonInfo } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import { processAlive } from '../../daemon/api/home.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { daemonLaunch } from '../daemon-bundle.ts';
import { readGlobalOptions } from '../global-options.ts';
import { colorsFor, printJson } from '../output.ts';

const STOP_TIMEOUT_MS = 15_000;

function describe(info: DaemonInfo, color: boolean, ctx: CliContext): string {
  const c = colorsFor(ctx.stdout, { env: ctx.env, color });
  const engine = info.engine.ok
    ? `${c.green('ok')} docker ${info.engine.info.version} (api ${info.engine.info.apiVersion}) at ${info.engine.info.host}`
    : `${c.red('unavailable')}: ${info.engine.error.message}`;
  const uptime = Math.round((Date.now() - info.startedAt) / 1000);
  return [
    `daemon:   ${c.green('running')} (pid ${info.pid}, up ${uptime} s, version ${info.version})`,
    `socket:   ${info.socket}`,
    `home:     ${info.home}`,
    `engine:   ${engine}`,
    `projects: ${info.projects}`,
    `metrics:  ${metricsLine(info.metrics, c)}`,
  ].join('\n') + '\n';
}

function metricsLine(m: DaemonInfo['metrics'], c: ReturnType<typeof colorsFor>): string {
  if (m === undefined) return 'off';
  return 'url' in m ? m.url : `${c.red('unavailable')}: ${m.error}`;
}

async function readFrom(path: string, offset: number): Promise<{ text: string; size: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const start = size < offset ? 0 : offset; // truncated or rotated: start over
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return { text: buf.toString('utf8'), size };
  } finally {
    await fh.close();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const daemon = program.command('daemon').description('manage the cmesh daemon (started automatically when needed)');

  daemon
    .command('start')
    .description('start the daemon if it is not running')
    .action(async (_opts: unknown, command: Command) => {
      const client = createDaemonClient(ctx);
      const info = await client.start();
      ctx.stdout.write(describe(info, readGlobalOptions(command).color, ctx));
    });

  daemon
    .command('stop')
    .description('stop the daemon (containers keep running; the next daemon adopts them)')
    .action(async () => {
      const client = createDaemonClient(ctx, { autoStart: false });
      const info = await client.probe();
      if (!info) {
        ctx.stderr.write('cmesh: the daemon is not running\n');
        return;
      }
      await client.request('POST', '/v1/shutdown');
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (Date.now() < deadline && (await client.probe().catch(() => undefined))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // The daemon stops answering before it has unlinked its socket: "stopped" means both (a next start must not race it).
      while (Date.now() < deadline && (await socketExists(client.home.socket))) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // …and its process gone: it closes its own work after the socket (the mesh, an unused shared gateway), and
      // whatever runs next (a new daemon, a test's cleanup) must find that done.
      while (Date.now() < deadline && processAlive(info.pid)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (await client.probe().catch(() => undefined)) {
        throw new CmeshError('CMESH_E_DAEMON_UNAVAILABLE', `the daemon (pid ${info.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s`, {
          hint: `see ${client.home.logFile}; \`kill ${info.pid}\` stops it by force`,
        });
      }
      ctx.stderr.write(`cmesh: stopped the daemon (pid ${info.pid})\n`);
    });

  daemon
    .command('status')
    .description('show whether the daemon runs, its pid, socket, home and engine status')
    .option('--json', 'print DaemonInfo as JSON (null when not running)')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const client = createDaemonClient(ctx, { autoStart: false });
      const info = await client.probe();
      if (opts.json) return printJson(info ?? null, ctx.stdout);
      if (!info) {
        ctx.stdout.write(`daemon:   not running\nsocket:   ${client.home.socket}\nhome:     ${client.home.home}\n`);
        return;
      }
      ctx.stdout.write(describe(info, readGlobalOptions(command).color, ctx));
    });

  daemon
    .command('logs')
    .description('print the daemon’s log')
    .option('-n, --lines <n>', 'last lines to show', '100')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .action(async (opts: { lines: string; follow?: boolean }) => {
      const { logFile } = createDaemonClient(ctx, { autoStart: false }).home;
      if (!(await stat(logFile).catch(() => undefined))) {
        ctx.stderr.write(`cmesh: no daemon log yet at ${logFile}\n`);
        if (!opts.follow) return;
      }
      let offset = 0;
      const first = await readFrom(logFile, 0).catch(() => ({ text: '', size: 0 }));
      const lines = first.text.split('\n');
      ctx.stdout.write(lines.slice(-Number(opts.lines) - 1).join('\n'));
      offset = first.size;
      if (!opts.follow) return;
      const ac = new AbortController();
      const onSigint = (): void => ac.abort();
      process.once('SIGINT', onSigint);
      try {
        while (!ac.signal.aborted) {
          await new Promise((r) => setTimeout(r, 250));
          const next = await readFrom(logFile, offset).catch(() => ({ text: '', size: offset }));
          if (next.text) ctx.stdout.write(next.text);
          offset = next.size;
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  daemon
    .command('run', { hidden: true })
    .description('run the daemon in the foreground (what auto-start runs detached)')
    .action(async () => {
      // A child in the foreground, launched exactly as auto-start launches it (the daemon bundle, or tsx): importing
      // the daemon here would put dockerode, undici and prom-client into every CLI start.
      const launch = await daemonLaunch(ctx.env);
      const { spawn } = await import('node:child_process'); // not on every CLI start
      const child = spawn(process.execPath, launch.args, { stdio: 'inherit', env: { ...(ctx.env as NodeJS.ProcessEnv), ...launch.env } });
      // Ctrl-C reaches the child directly (same process group); passing it on too would be a second SIGINT, which
      // skips the daemon's graceful shutdown. SIGTERM is sent to this pid alone, so it is forwarded.
      const ignore = (): void => undefined;
      const forward = (signal: NodeJS.Signals): void => {
        child.kill(signal);
      };
      process.on('SIGINT', ignore);
      process.on('SIGTERM', forward);
      try {
        const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' || sig === 'SIGTERM' ? 0 : 1))));
        if (code !== 0) throw new CmeshError('CMESH_E_LOCKED', 'the daemon could not start (see the message above)');
      } finally {
        process.off('SIGINT', ignore);
        process.off('SIGTERM', forward);
      }
    });
}

async function socketExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
