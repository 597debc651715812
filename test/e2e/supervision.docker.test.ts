// Supervision against the real engine: crash-loop backoff (1 s, 2 s, 4 s…), `restart: "no"`, self-heal after
// `docker rm -f`, restart of an engine-reported unhealthy replica, and `up --wait` failing with the crash's last logs.
// Start times come from `docker events`, not from cmesh, so the test does not trust what it checks.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../daemon/api/errors.ts';
import { type CmeshCli, newCmeshCli, projectContainers, until } from '../helpers/cmesh-cli.ts';
import { engineStartMs, inspectState, newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('supervise');
const project = runId;
const failProject = `${runId}-fail`;
let cli: CmeshCli;

const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;
const busybox = (command: string, extra = ''): string =>
  `    image: cmesh/busybox:local\n    command: ["sh", "-c", ${JSON.stringify(command)}]\n    stop_grace_period: 1s\n${extra}${labels}`;

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  crash:
${busybox('echo boom; exit 1', '    restart: on-failure\n')}
  once:
${busybox('echo bye; exit 1', '    restart: "no"\n')}
  steady:
${busybox('while true; do sleep 1; done', '    restart: always\n')}
  sick:
${busybox('touch /tmp/ok; while true; do sleep 1; done', '    restart: always\n    healthcheck: { test: ["CMD", "test", "-e", "/tmp/ok"], interval: 1s, timeout: 1s, retries: 2 }\n')}
`,
  );
  await writeFile(
    join(cli.work, 'fail.yaml'),
    `name: ${failProject}
services:
  broken:
${busybox('echo starting; echo "fatal: /etc/app.conf is missing" >&2; exit 3', '    restart: "no"\n')}
`,
  );
});

after(async () => {
  await cli?.cmesh(['-f', 'fail.yaml', 'down'], 30_000).catch(() => undefined);
  const stray = await projectContainers(failProject).catch(() => []);
  if (stray.length > 0) await run(['rm', '-f', ...stray]).catch(() => undefined);
  await cli?.teardown(project, runId);
});

/** `docker events` start times (ms) per service of the project in [since, until]; blocks until `until`. */
async function startsBetween(sinceMs: number, untilMs: number): Promise<Record<string, number[]>> {
  const out = await run(
    [
      'events',
      '--since', (sinceMs / 1000).toFixed(3),
      '--until', (untilMs / 1000).toFixed(3),
      '--filter', `label=dev.cmesh.project=${project}`,
      '--filter', 'type=container',
      '--filter', 'event=start',
      '--format', '{{index .Actor.Attributes "dev.cmesh.service"}} {{.TimeNano}}',
    ],
    { timeoutMs: untilMs - Date.now() + 15_000 },
  );
  const starts: Record<string, number[]> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [service, nanos] = line.split(' ');
    const list = starts[service!] ?? [];
    list.push(Number(BigInt(nanos!) / 1_000_000n));
    starts[service!] = list;
  }
  for (const list of Object.values(starts)) list.sort((a, b) => a - b);
  return starts;
}

test('up --wait of a container that exits at start fails with its last log lines', async () => {
  const r = await cli.cmesh(['-f', 'fail.yaml', 'up', '--wait', '--timeout', '20'], 60_000);
  assert.equal(r.code, ExitCode.unhealthy, r.stderr);
  assert.match(r.stderr, /CMESH_E_CONTAINER_EXITED/);
  assert.match(r.stderr, /exited with code 3/);
  assert.match(r.stderr, /last log lines/);
  assert.match(r.stderr, /fatal: \/etc\/app\.conf is missing/);
});

test('steady and sick come up', async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '30', 'steady', 'sick']);
});

test('crash loop backs off 1 s, 2 s, 4 s; restart: "no" never restarts', async () => {
  // Each restart costs the engine's own start on top of the backoff (~0.3 s on one machine, ~0.55 s on another).
  const engineStart = await engineStartMs(runId);
  const slack = Math.max(0, engineStart - 300);
  const since = Date.now() - 100;
  // Exits at once: up may report it (the crash is the point), but must not hang or crash.
  const up = await cli.cmesh(['up', '-d', 'crash', 'once'], 30_000);
  assert.ok([0, ExitCode.unhealthy].includes(up.code ?? -1), up.stderr);
  const starts = await startsBetween(since, since + 10_500 + 3 * slack);
  const crash = starts['crash'] ?? [];
  const intervals = crash.slice(1).map((t, i) => t - crash[i]!);
  console.log(`# crash starts at +${crash.map((t) => t - crash[0]!).join(', +')} ms; intervals ${intervals.join(', ')} ms; engine start ${engineStart} ms`);
  assert.ok(crash.length >= 4 && crash.length <= 5, `expected 4 starts in ~10 s (0, 1, 3, 7 s), got ${crash.length}`);
  // Each interval is the backoff plus a roughly constant overhead (the container's few ms of life, one observe, the
  // engine's start with its network setup: ~0.3 s, or `slack` more on a slower engine); the differences between
  // intervals cancel it out.
  for (const [i, expected] of [1000, 2000, 4000].entries()) {
    const got = intervals[i]!;
    assert.ok(got >= expected - 50 && got <= expected + 1000 + slack, `interval ${i + 1}: ${got} ms, expected ~${expected} ms (+${slack} ms engine slack)`);
  }
  for (const [i, expected] of [1000, 2000].entries()) {
    const growth = intervals[i + 1]! - intervals[i]!;
    assert.ok(Math.abs(growth - expected) <= 600, `interval ${i + 2} grew by ${growth} ms, expected ~${expected} ms (doubling)`);
  }
  assert.equal(starts['once']?.length, 1, `restart: "no" started ${starts['once']?.length} times`);
  const once = (await cli.ps()).find((r) => r.service === 'once');
  assert.equal(once?.state, 'exited');
  assert.equal(once?.exitCode, 1);
});

test('a replica removed behind our back (docker rm -f) is recreated', async () => {
  const [victim] = await projectContainers(project, ['--filter', 'label=dev.cmesh.service=steady']);
  assert.ok(victim);
  await run(['rm', '-f', victim]);
  const back = await until('steady-1 recreated', 15_000, async () => {
    const ids = await projectContainers(project, ['--filter', 'label=dev.cmesh.service=steady', '--filter', 'status=running']);
    return ids.length === 1 && ids[0] !== victim ? ids[0] : undefined;
  }, 100);
  assert.notEqual(back, victim);
  const all = await projectContainers(project, ['--filter', 'label=dev.cmesh.service=steady']);
  assert.equal(all.length, 1, 'no duplicate');
});

test('an engine-reported unhealthy replica is restarted', async () => {
  const [sick] = await projectContainers(project, ['--filter', 'label=dev.cmesh.service=sick']);
  assert.ok(sick);
  const before = JSON.parse(await run(['inspect', '--format', '{{json .State.StartedAt}}', sick])) as string;
  const since = Date.now() - 100;
  await run(['exec', sick, 'rm', '/tmp/ok']);
  // Not polled for "unhealthy" itself: cmesh may restart it before a poll sees that state.
  await until('sick to be restarted', 25_000, async () => {
    const [id] = await projectContainers(project, ['--filter', 'label=dev.cmesh.service=sick']);
    if (!id) return undefined;
    const startedAt = JSON.parse(await run(['inspect', '--format', '{{json .State.StartedAt}}', id])) as string;
    return id !== sick || startedAt !== before ? true : undefined;
  }, 100);
  const actions = await run([
    'events', '--since', (since / 1000).toFixed(3), '--until', (Date.now() / 1000).toFixed(3),
    '--filter', 'type=container', '--filter', `container=${sick}`, '--format', '{{.Action}}',
  ]);
  // The engine said unhealthy first, then cmesh restarted it (a start after the unhealthy report).
  const lines = actions.split('\n');
  const unhealthyAt = lines.indexOf('health_status: unhealthy');
  assert.ok(unhealthyAt >= 0, `no unhealthy report in: ${lines.join(', ')}`);
  assert.ok(lines.slice(unhealthyAt).includes('start'), `no start after the unhealthy report: ${lines.join(', ')}`);
  // The restart runs the command again, which recreates the file: healthy again.
  await until('sick healthy again', 15_000, async () => {
    const [id] = await projectContainers(project, ['--filter', 'label=dev.cmesh.service=sick']);
    return id && (await inspectState(id)).Health?.Status === 'healthy' ? true : undefined;
  }, 200);
});
