// `cmesh dash` in a real terminal: tmux (private server, 100×30) runs the real CLI against the real daemon and engine
// with a 2-replica echo service behind a published port. Sees the services, scales with `+`, kills with `k` `y` and
// sees the replica replaced, rides out a daemon restart, quits with `q` back to the shell. Every wait is bounded; traffic only to 127.0.0.1.
// CMESH_DASH_CAPTURE=<file> also writes a capture under light load (docs/dash.txt is made that way).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type CmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, ROOT, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject } from '../helpers/echo-project.ts';
import { paneEnv, startPane, type TmuxPane } from '../helpers/tmux.ts';

await dockerTestFile();

const exec = promisify(execFile);
const runId = newRunId('dash');
const socket = `cmesh-${runId}`;
let p: EchoProject | undefined;
let cli: CmeshCli;
let port = 0;

let pane: TmuxPane | undefined;
const tmux = (...args: string[]): Promise<string> => pane!.tmux(...args);
const screen = (): Promise<string> => pane!.screen();
const keys = (...k: string[]): Promise<string> => pane!.keys(...k);
const see = (what: RegExp, timeoutMs?: number): Promise<string> => pane!.see(what, timeoutMs);

/** A few paced requests a second through the proxy so the table has traffic. */
async function lightLoad(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).catch(() => undefined);
    await sleep(50);
  }
}

before(async () => {
  p = await echoProject({
    runId,
    restart: 'always',
    hostIp: '127.0.0.1',
    replicas: 2,
    stopGracePeriod: '2s',
    lb: 'round-robin',
    health: { interval: '250ms', timeout: '500ms', rise: 2, fall: 2 },
  });
  ({ cli, port } = p);
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
});

after(async () => {
  await pane?.kill();
  await p?.teardown();
});

test('cmesh dash in tmux: services, + scales, k/y kills and it is replaced, daemon restart, q quits to the shell', async () => {
  pane = await startPane(socket, 'dash', paneEnv(cli.env()), cli.work);
  await keys(`${process.execPath} ${join(ROOT, 'bin/cmesh.js')} dash; echo DASH-EXIT=$?`, 'Enter');

  // The running project: 2/2 healthy behind the published port.
  await see(new RegExp(`> web\\s+2/2\\s+healthy\\s+round-robin\\s+127\\.0\\.0\\.1:${port}->3000`));
  await see(/^cmesh dash · connected · project/m);

  // Expand, then `+`: a third replica appears and turns healthy.
  await keys('Enter');
  await see(/web-2\s+running\s+healthy/);
  await keys('+');
  await see(/scaled web to 3/);
  await see(/web-3\s+running\s+healthy/, 30_000);
  await see(/> web\s+3\/3\s+healthy/);

  // Select web-1, `k`, confirm with `y`: it is killed, and the supervisor brings web-1 back.
  const before1 = (await cli.ps()).find((r) => r.service === 'web' && r.replica === 1)!;
  await keys('Down');
  await see(/> {3}web-1/);
  await keys('k');
  await see(/kill web-1\? .*\[y\/n\]/);
  await keys('y');
  await see(/killed \S+-web-1; the supervisor replaces it/);
  await until('web-1 replaced', 30_000, async () => {
    const now = (await cli.ps()).find((r) => r.service === 'web' && r.replica === 1 && r.state === 'running');
    return now && (now.container !== before1.container || now.restarts > before1.restarts || (now.startedAt ?? 0) > (before1.startedAt ?? 0)) ? now : undefined;
  }, 250);
  await see(/> {3}web-1\s+running\s+healthy/, 30_000);
  await see(/web\s+3\/3\s+healthy/);

  // The daemon dies: the header says so; a new daemon comes up and the same dashboard recovers, data and all.
  await cli.killDaemon();
  await see(/^cmesh dash · reconnecting… · project/m, 10_000);
  await cli.ok(['daemon', 'start']);
  await see(/^cmesh dash · connected · project/m, 15_000);
  await see(/ web\s+3\/3\s+healthy/, 20_000);

  // Idle (no traffic, no keys): polling at 1 Hz and the uptime ticking must stay well under 5 % of a CPU.
  const shell = (await tmux('display-message', '-p', '-t', 'dash', '#{pane_pid}')).trim();
  const dash = (await exec('ps', ['-o', 'pid=', '--ppid', shell])).stdout.trim().split(/\s+/)[0]!;
  const cpu = async (): Promise<number> => {
    const fields = (await readFile(`/proc/${dash}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  // Two windows, judged by the quieter: the first may still hold the reconnect's catch-up (a resync right after the
  // daemon came back), which is not idle; a dashboard that really spins fails both.
  const windows: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = await cpu();
    await sleep(5000);
    windows.push(((await cpu()) - t0) / 5); // clock ticks (1/100 s) over 5 s ÷ 5 = percent of a CPU
  }
  console.log(`# idle CPU of cmesh dash over two 5 s windows: ${windows.join('%, ')}%`);
  assert.ok(Math.min(...windows) < 5, `idle CPU ${windows.join('%, ')}% ≥ 5%`);

  if (process.env['CMESH_DASH_CAPTURE']) {
    await keys('Up');
    await lightLoad(6000);
    await writeFile(process.env['CMESH_DASH_CAPTURE'], (await screen()).replace(/\s+$/, '\n'));
  }

  // `q`: ink unmounts, raw mode off, the shell prompt is back and the exit code is 0.
  await keys('q');
  const end = await see(/DASH-EXIT=\d+/, 10_000);
  assert.match(end, /DASH-EXIT=0/);
  await keys('echo still-a-shell', 'Enter');
  await see(/^still-a-shell$/m, 5000);
});
