// Start probes on the fake engine: pass only when the test passes, one exec in flight, none after the pass, bounded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInfo } from '../api/engine.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { HealthcheckSpec } from '../api/project.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { execute } from './execute.ts';
import { ProjectReconciler } from './loop.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import { type ProbeOutcome, probeCommand, probedEngine, probeTimings, projectProbes, StartProber } from './start-probe.ts';
import { dep, desired, project, svc } from './testing.ts';
import { sleep } from './wait.ts';

const hc = (over: Partial<HealthcheckSpec> = {}): HealthcheckSpec => ({ test: ['CMD-SHELL', 'test -f /ready'], disable: false, ...over });

async function started(engine: FakeEngine, health: HealthcheckSpec | undefined): Promise<ContainerInfo> {
  const { id } = await engine.createContainer({
    name: 'probe-db-1',
    image: 'example/db:1',
    env: {},
    labels: { 'dev.cmesh.project': 'probe', 'dev.cmesh.service': 'db', 'dev.cmesh.replica': '1' },
    ports: [],
    mounts: [],
    networks: [],
    init: false,
    ...(health ? { healthcheck: health } : {}),
  });
  await engine.startContainer(id);
  return (await engine.inspectContainer(id))!;
}

function prober(engine: FakeEngine, health: HealthcheckSpec | undefined) {
  const outcomes: ProbeOutcome[] = [];
  const ac = new AbortController();
  const p = new StartProber({ engine, healthcheckOf: () => health, onOutcome: (o) => outcomes.push(o), signal: ac.signal });
  return { p, outcomes, stop: () => ac.abort() };
}

const execs = (engine: FakeEngine): number => engine.callsOf('exec').length;

async function until(what: string, cond: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('probe commands are what Docker runs: CMD as is, CMD-SHELL through /bin/sh -c; NONE and timings-only are not ours', () => {
  assert.deepEqual(probeCommand(hc({ test: ['CMD', 'pg_isready', '-q'] })), ['pg_isready', '-q']);
  assert.deepEqual(probeCommand(hc()), ['/bin/sh', '-c', 'test -f /ready']);
  assert.equal(probeCommand(hc({ test: ['NONE'] })), undefined);
  assert.equal(probeCommand(hc({ test: [] })), undefined);
  assert.equal(probeCommand(hc({ disable: true })), undefined);
  assert.equal(probeCommand(undefined), undefined);
  assert.deepEqual(probeTimings(hc()), { everyMs: 100, timeoutMs: 30_000, windowMs: 90_000 });
  assert.deepEqual(probeTimings(hc({ intervalMs: 5_000, retries: 2, startPeriodMs: 1_000, startIntervalMs: 50, timeoutMs: 2_000 })), {
    everyMs: 50,
    timeoutMs: 2_000,
    windowMs: 11_000,
  });
});

test('not healthy before the file appears; passes within a start interval after; no exec after the pass', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  let ready = false;
  engine.setExecHandler((_c, command) => ({ exitCode: ready && command.join(' ') === '/bin/sh -c test -f /ready' ? 0 : 1, output: '' }));
  const c = await started(engine, hc({ intervalMs: 5_000, startIntervalMs: 20 }));
  const { p, outcomes, stop } = prober(engine, hc({ intervalMs: 5_000, startIntervalMs: 20 }));
  const view = probedEngine(engine, p);
  try {
    assert.equal((await view.inspectContainer(c.id))?.health, 'starting');
    await until('a few failing probes', () => execs(engine) >= 3);
    assert.equal(p.passed(c), false);
    assert.equal((await view.listContainers({ labels: {} }))[0]?.health, 'starting');
    // The handler reads `ready` when the exec starts, so every probe counted so far failed: the next one must pass.
    const failed = execs(engine);
    ready = true;
    await until('the pass', () => outcomes.length > 0);
    assert.equal(outcomes[0]?.passed, true);
    assert.equal(outcomes[0]?.probes, failed + 1, 'the first probe after the file appears passes');
    const [seen] = await view.listContainers({ labels: {} });
    assert.equal(seen?.health, 'healthy');
    assert.equal(seen?.engineHealth, 'starting', 'Docker still says starting');
    const after = execs(engine);
    await sleep(200);
    assert.equal(execs(engine), after, 'no probe after the first pass');
    assert.equal(outcomes[0]?.probes, after);
    // Docker's own verdict wins from here on.
    engine.setHealth(c.id, 'unhealthy');
    assert.equal((await view.inspectContainer(c.id))?.health, 'unhealthy');
  } finally {
    stop();
  }
});

test('a failing healthcheck never passes and probing ends at start_period + interval × retries', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  engine.setExecHandler(() => ({ exitCode: 1, output: 'not yet' }));
  const health = hc({ intervalMs: 150, retries: 2, startIntervalMs: 20 });
  const c = await started(engine, health);
  const { p, outcomes, stop } = prober(engine, health);
  try {
    p.see(c);
    await until('the verdict', () => outcomes.length > 0);
    assert.equal(outcomes[0]?.passed, false);
    assert.ok(outcomes[0]!.elapsedMs >= 290, `gave up after ${outcomes[0]?.elapsedMs} ms`);
    // Turns are at least start_interval apart inside the 300 ms window: at most 300 / 20 + 1 probes. (A lower bound
    // would be a bet on the host's load.)
    const count = execs(engine);
    assert.ok(count >= 1 && count <= 16, `${count} probes in a 300 ms window at 20 ms`);
    await sleep(100);
    assert.equal(execs(engine), count);
    assert.equal(p.passed(c), false);
  } finally {
    stop();
  }
});

test('a hanging probe is bounded by its timeout, and no second probe starts while it still runs', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  let calls = 0;
  let endHang: (() => void) | undefined;
  engine.setExecHandler(() => {
    calls++;
    if (calls > 1) return { exitCode: 0, output: '' };
    // The first probe hangs (the engine cannot kill it) until the test lets it exit 0; the next one passes.
    return new Promise((r) => (endHang = () => r({ exitCode: 0, output: '' })));
  });
  // Counts the prober's questions about the timed-out probe: waiting for them, not for a time, is what proves it
  // saw the timeout (a starved event loop can run the test before the engine's timeout timer).
  let asked = 0;
  const exec = engine.exec.bind(engine);
  engine.exec = async (...args) => {
    const result = await exec(...args);
    const stillRunning = result.stillRunning;
    if (stillRunning === undefined) return result;
    return {
      ...result,
      stillRunning: () => {
        asked++;
        return stillRunning();
      },
    };
  };
  const health = hc({ timeoutMs: 50, startIntervalMs: 20 });
  const c = await started(engine, health);
  const { p, outcomes, stop } = prober(engine, health);
  try {
    p.see(c);
    // Several turns past the timeout: a prober that ignored the running probe would have started more by now.
    await until('the prober asking three times whether the timed-out probe still runs', () => asked >= 3);
    assert.equal(calls, 1, 'the timed-out probe still runs: no pile-up');
    endHang?.();
    await until('the pass after the hang', () => outcomes.length > 0);
    assert.equal(calls, 2);
    assert.equal(outcomes[0]?.probes, 2, 'a probe past its timeout counts as failed, even if it later exits 0');
    const options = engine.callsOf('exec')[0]?.args[2] as { timeoutMs?: number } | undefined;
    assert.equal(options?.timeoutMs, 50, 'the healthcheck timeout bounds each probe');
  } finally {
    stop();
  }
});

test('a replica without a healthcheck of its own is never probed', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  const c = await started(engine, undefined);
  const { p, stop } = prober(engine, undefined);
  try {
    p.see(c);
    await sleep(50);
    assert.equal(execs(engine), 0);
  } finally {
    stop();
  }
});

test('a service_healthy gate opens on the probe long before Docker would report healthy', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  // Two failing probes, then a pass: counted, not timed, so a slow host cannot make the first probe pass.
  let probes = 0;
  engine.setExecHandler(() => ({ exitCode: ++probes > 2 ? 0 : 1, output: '' }));
  const d = desired(
    project('demo', [
      svc('db', { healthcheck: { test: ['CMD', 'pg_isready'], intervalMs: 30_000, disable: false, startIntervalMs: 20 } }),
      svc('api', { dependsOn: { db: dep('service_healthy') } }),
    ]),
  );
  const events: DaemonEvent[] = [];
  const ac = new AbortController();
  const loop = new ProjectReconciler({ engine, name: 'demo', getDesired: () => d, emit: (e) => events.push(e), signal: ac.signal, execute: { gateTimeoutMs: 3_000 } });
  try {
    await loop.reconcileNow();
    assert.equal(engine.container('demo-api-1')?.state, 'running');
    assert.equal(engine.container('demo-db-1')?.health, 'starting', 'Docker has not judged yet');
    const order = engine.calls.map((call) => call.method);
    assert.ok(order.lastIndexOf('exec') < order.lastIndexOf('createContainer'), 'api is created only after the passing probe');
    assert.equal(engine.callsOf('exec').length, 3, 'no probe after the pass');
    const pass = events.find((e) => e.type === 'health' && e.source === 'probe');
    assert.ok(pass?.type === 'health' && pass.healthy && pass.service === 'db' && pass.probes === 3);
    await until('the loop sees the pass', () => loop.status().some((r) => r.service === 'db' && r.health === 'healthy'));
    assert.equal(loop.status().find((r) => r.service === 'db')?.engineHealth, 'starting');
    await loop.waitReady({ services: [], timeoutMs: 2_000, settleMs: 0 });
  } finally {
    ac.abort();
  }
});

test('a failing healthcheck never opens its gate', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  engine.setExecHandler(() => ({ exitCode: 1, output: '' }));
  const d = desired(
    project('demo', [
      svc('db', { healthcheck: { test: ['CMD', 'false'], disable: false, startIntervalMs: 10 } }),
      svc('api', { dependsOn: { db: dep('service_healthy') } }),
    ]),
  );
  const observed = await observe(engine, 'demo', ['db', 'api']);
  const ac = new AbortController();
  const probes = projectProbes({ engine, project: 'demo', getDesired: () => d, emit: () => {}, signal: ac.signal });
  try {
    await assert.rejects(
      execute(plan(d, observed, { now: Date.now(), supervisor: { replicas: {} } }), probes.engine, () => {}, { gateTimeoutMs: 300, wake: probes.wake }),
      /CMESH_E_TIMEOUT|timed out/,
    );
    assert.equal(engine.container('demo-api-1'), undefined);
    // How many probes fit in 300 ms depends on the host's load; that it was probed (and failed) does not.
    assert.ok(execs(engine) >= 1, 'it was probed');
  } finally {
    ac.abort();
  }
});

test('probes of many replicas share a bounded number of exec slots per project', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  let running = 0;
  let most = 0;
  let calls = 0;
  engine.setExecHandler(async () => {
    running++;
    calls++;
    most = Math.max(most, running);
    await sleep(30);
    running--;
    return { exitCode: calls > 12 ? 0 : 1, output: '' };
  });
  const health = hc({ startIntervalMs: 10 });
  const outcomes: ProbeOutcome[] = [];
  const ac = new AbortController();
  const p = new StartProber({ engine, healthcheckOf: () => health, onOutcome: (o) => outcomes.push(o), signal: ac.signal, maxInFlight: 2 });
  try {
    for (let i = 1; i <= 5; i++) {
      const { id } = await engine.createContainer({
        name: `probe-web-${i}`,
        image: 'example/web:1',
        env: {},
        labels: { 'dev.cmesh.project': 'probe', 'dev.cmesh.service': 'web', 'dev.cmesh.replica': String(i) },
        ports: [],
        mounts: [],
        networks: [],
        init: false,
        healthcheck: health,
      });
      await engine.startContainer(id);
      p.see((await engine.inspectContainer(id))!);
    }
    await until('all five pass', () => outcomes.length === 5);
    assert.ok(outcomes.every((o) => o.passed));
    assert.equal(most, 2, 'never more than two execs at once');
  } finally {
    ac.abort();
  }
});
