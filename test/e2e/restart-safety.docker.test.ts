// Restart safety: the daemon is SIGKILLed at 10 seeded-random moments while `up -d` of one service × 10 replicas is
// under way; each next CLI command auto-starts a fresh daemon. The end state must be exactly one running container per
// replica index, no duplicates, no orphans, and replicas that were already healthy must never have been restarted.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { alive, type CmeshCli, newCmeshCli, projectContainers, sleep, until } from '../helpers/cmesh-cli.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { gatewayId } from '../helpers/east-west.ts';
import { homeId, SHARED_GATEWAY_LABEL } from '../../daemon/gateway-shared.ts';

await dockerTestFile();

const runId = newRunId('restart');
const project = runId;
const REPLICAS = 10;
const KILLS = 10;
let cli: CmeshCli;

/** Seeded so a failing schedule can be replayed with CMESH_TEST_SEED. */
const prng = seededRandom;

interface Seen {
  id: string;
  name: string;
  replica: string;
  running: boolean;
  health: string;
  startedAt: string;
}

async function inspectAll(): Promise<Seen[]> {
  const ids = await projectContainers(project);
  if (ids.length === 0) return [];
  // A container removed between ps and inspect makes inspect fail for all: retry once with a fresh list.
  const out = await run(['inspect', ...ids]).catch(async () => {
    const again = await projectContainers(project);
    return again.length === 0 ? '[]' : run(['inspect', ...again]);
  });
  type Raw = { Id: string; Name: string; Config: { Labels: Record<string, string> }; State: { Running: boolean; StartedAt: string; Health?: { Status: string } } };
  return (JSON.parse(out) as Raw[]).map((c) => ({
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    replica: c.Config.Labels['dev.cmesh.replica'] ?? '?',
    running: c.State.Running,
    health: c.State.Health?.Status ?? 'none',
    startedAt: c.State.StartedAt,
  }));
}

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  web:
    image: cmesh/busybox:local
    command: ["httpd", "-f", "-p", "3000", "-h", "/etc"]
    restart: always
    expose: ["3000"]
    stop_grace_period: 1s
    deploy: { replicas: ${REPLICAS} }
    healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/hostname"], interval: 1s, timeout: 1s, retries: 3 }
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
});

after(async () => {
  await cli?.teardown(project, runId);
});

test(`SIGKILL of the daemon at ${KILLS} random moments during up -d: one container per replica, healthy ones untouched`, async () => {
  const seed = Number(process.env['CMESH_TEST_SEED'] ?? 20261123);
  const random = prng(seed);
  const delays = Array.from({ length: KILLS }, () => Math.round(50 + random() * 1450));
  console.log(`# seed ${seed}, kill delays ${delays.join(', ')} ms`);
  /** Containers seen running+healthy just before a kill: id → StartedAt. They must survive untouched. */
  const healthy = new Map<string, string>();
  let previous: number | undefined;
  let interrupted = 0;
  for (const [i, delay] of delays.entries()) {
    // After the first round, take a few replicas away so every up (and every fresh daemon's adopting pass) has
    // creates and starts in flight when the kill lands, not just a no-op.
    if (i > 0) {
      const gone = (await inspectAll()).filter(() => random() < 0.4);
      if (gone.length > 0) await run(['rm', '-f', ...gone.map((c) => c.id)]);
      for (const c of gone) healthy.delete(c.id);
    }
    const up = cli.cmesh(['up', '-d'], 60_000);
    // Time the kill from the moment the (auto-started) daemon exists, so it lands inside the up, not before it.
    const pid = await until('a live daemon', 15_000, async () => {
      const p = await cli.daemonPid();
      return p !== undefined && p !== previous && alive(p) ? p : undefined;
    }, 10);
    await sleep(delay);
    for (const c of await inspectAll()) if (c.running && c.health === 'healthy') healthy.set(c.id, c.startedAt);
    process.kill(pid, 'SIGKILL');
    previous = pid;
    await until('the daemon to die', 5000, async () => (alive(pid) ? undefined : true), 10);
    const r = await up;
    if (r.code !== 0) interrupted++;
    // Losing the daemon mid-operation is an outage the CLI reports (exit 1), never "cmesh hit a bug" (70).
    assert.ok(r.code === 0 || r.code === 1, `up exited ${r.code}:\n${r.stderr}`);
    if (r.code === 1) assert.match(r.stderr, /CMESH_E_DAEMON_(UNAVAILABLE|PROTOCOL)/);
    console.log(`# kill ${i + 1}: ${delay} ms after daemon ${pid} appeared; up exited ${r.code}; ${healthy.size} healthy so far`);
  }
  console.log(`# ${interrupted}/${KILLS} kills interrupted the up itself`);
  const done = await cli.cmesh(['up', '-d', '--wait', '--timeout', '60'], 90_000);
  assert.equal(done.code, 0, done.stderr);

  // `--wait` returns on cmesh's own start probe (README "Readiness"); Docker's first healthcheck runs one interval after
  // start (Engine 20.10), so its word may still be "starting" for a replica started last. Wait for Docker's word too.
  await until('Docker to call every replica healthy', 20_000, async () => {
    const now = await inspectAll();
    return now.filter((c) => c.name !== `${project}-cmesh-gateway`).every((c) => c.running && c.health === 'healthy') ? true : undefined;
  });
  const all = await inspectAll();
  // web is meshed east-west (the default): one gateway answers for it, whatever the kills and removals did: the
  // daemon's shared one (the default) or, had a pass made one, the project's own — never both, never two.
  const gateway = `${project}-cmesh-gateway`;
  const shared = (await run(['ps', '-aq', '--filter', `label=${SHARED_GATEWAY_LABEL}=${homeId(cli.home)}`])).split('\n').filter(Boolean);
  const own = all.filter((c) => c.name === gateway);
  assert.equal(own.length + shared.length, 1, `exactly one gateway: ${own.length} of the project's own, ${shared.length} shared`);
  assert.ok(own.every((c) => c.running), 'running');
  assert.ok(await gatewayId(project), 'on the project network, running');
  const final = all.filter((c) => c.name !== gateway);
  const names = final.map((c) => c.name).sort();
  const expected = Array.from({ length: REPLICAS }, (_, i) => `${project}-web-${i + 1}`).sort();
  assert.deepEqual(names, expected, 'exactly one container per replica index, nothing else');
  assert.deepEqual(final.map((c) => c.replica).sort((a, b) => Number(a) - Number(b)), expected.map((_, i) => String(i + 1)));
  assert.ok(final.every((c) => c.running && c.health === 'healthy'), JSON.stringify(final, null, 1));
  for (const [id, startedAt] of healthy) {
    const now = final.find((c) => c.id === id);
    assert.ok(now, `healthy container ${id.slice(0, 12)} was removed`);
    assert.equal(now.startedAt, startedAt, `healthy container ${now.name} was restarted`);
  }
  // The daemon's own view agrees with the engine.
  const rows = await cli.ps();
  assert.deepEqual(rows.map((r) => r.container).sort(), final.map((c) => c.id).sort());
  // Let a few passes of the last daemon run: adoption must not turn into churn.
  await sleep(1500);
  assert.deepEqual((await inspectAll()).map((c) => `${c.id}@${c.startedAt}`).sort(), all.map((c) => `${c.id}@${c.startedAt}`).sort());
});
