// Start probes against the real engine: a healthcheck that passes only after a file appears gates its dependant until
// then and no longer (Docker's own first check is 30 s away); probes stop after the pass; a failing healthcheck never
// opens its gate; a hanging one is bounded by its timeout with never two probe processes at once.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import type { ContainerEngine } from '../api/engine.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { HealthcheckSpec, ServiceSpec } from '../api/project.ts';
import { createDockerEngine } from '../engine/dockerode-engine.ts';
import { ProjectReconciler } from './loop.ts';
import { dep, desired, project, svc } from './testing.ts';
import { sleep } from './wait.ts';
import { dockerTestFile } from '../../test/helpers/docker.ts';

await dockerTestFile();

const IMAGE = 'cmesh/busybox:local';
const RUN = randomBytes(4).toString('hex');
const TEST_LABELS = { 'dev.cmesh.test': 'true' };
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const projects: string[] = [];
const abort = new AbortController();

/** Docker's first healthcheck is 30 s after start: anything healthy sooner was cmesh's probe. */
const check = (test: string, over: Partial<HealthcheckSpec> = {}): HealthcheckSpec => ({
  test: ['CMD-SHELL', test],
  intervalMs: 30_000,
  timeoutMs: 1_000,
  retries: 3,
  startIntervalMs: 50,
  disable: false,
  ...over,
});

const box = (name: string, over: Partial<ServiceSpec> = {}): ServiceSpec =>
  svc(name, { image: IMAGE, command: ['sleep', '300'], labels: { ...TEST_LABELS }, stopGracePeriodMs: 1_000, ...over });

/** The real engine, counting execs per container (the probes). */
function countingEngine(): { engine: ContainerEngine; execs: Map<string, number> } {
  const inner = createDockerEngine();
  const execs = new Map<string, number>();
  const engine = new Proxy(inner, {
    get(target, key) {
      if (key === 'exec') {
        return (id: string, ...rest: [string[]]) => {
          execs.set(id, (execs.get(id) ?? 0) + 1);
          return target.exec(id, ...rest);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { engine, execs };
}

function loopFor(services: ServiceSpec[], gateTimeoutMs: number) {
  const name = `sp-${RUN}-${projects.length}`;
  projects.push(name);
  const spec = project(name, services);
  spec.networks['default']!.labels = { ...TEST_LABELS };
  const d: DesiredProject = desired(spec, { updatedAt: Date.now() });
  const events: DaemonEvent[] = [];
  const { engine, execs } = countingEngine();
  const loop = new ProjectReconciler({ engine, name, getDesired: () => d, emit: (e) => events.push(e), signal: abort.signal, execute: { gateTimeoutMs } });
  const id = (service: string): string => docker('inspect', '-f', '{{.Id}}', `${name}-${service}-1`);
  const exists = (service: string): boolean => docker('ps', '-aq', '--filter', `name=^${name}-${service}-1$`) !== '';
  return { name, loop, events, execs, id, exists };
}

before(() => {
  try {
    docker('image', 'inspect', IMAGE);
  } catch {
    execFileSync('bash', [join(import.meta.dirname, '../../scripts/build-base-images.sh')], { stdio: 'inherit' });
  }
});

after(() => {
  abort.abort();
  for (const name of projects) {
    const ids = docker('ps', '-aq', '--filter', `label=dev.cmesh.project=${name}`).split('\n').filter(Boolean);
    if (ids.length > 0) docker('rm', '-f', ...ids);
    const nets = docker('network', 'ls', '-q', '--filter', `label=dev.cmesh.project=${name}`).split('\n').filter(Boolean);
    if (nets.length > 0) docker('network', 'rm', ...nets);
  }
});

test('healthy only once the file appears, the gate opens right then, and probing stops', { timeout: 60_000 }, async () => {
  const p = loopFor([box('db', { healthcheck: check('test -f /tmp/ready') }), box('api', { dependsOn: { db: dep('service_healthy') } })], 20_000);
  const up = p.loop.reconcileNow();
  for (let i = 0; i < 100 && !p.exists('db'); i++) await sleep(50);
  const dbId = p.id('db');
  // A few failed probes (bounded wait: on a loaded host one exec can take a few hundred ms).
  for (let i = 0; i < 300 && (p.execs.get(dbId) ?? 0) < 3; i++) await sleep(50);
  assert.ok((p.execs.get(dbId) ?? 0) >= 3, 'probed while waiting');
  assert.equal(p.exists('api'), false, 'api waits: db is not healthy before the file appears');
  assert.ok(!p.events.some((e) => e.type === 'health' && e.source === 'probe'), 'no pass announced before the file');
  await assert.rejects(p.loop.waitReady({ services: ['db'], timeoutMs: 200 }), /not ready/);

  const touched = Date.now();
  docker('exec', `${p.name}-db-1`, 'touch', '/tmp/ready');
  await up;
  assert.equal(docker('inspect', '-f', '{{.State.Status}}', `${p.name}-api-1`), 'running');
  assert.equal(docker('inspect', '-f', '{{.State.Health.Status}}', `${p.name}-db-1`), 'starting', 'Docker has not judged yet');
  const pass = p.events.find((e) => e.type === 'health' && e.source === 'probe');
  assert.ok(pass?.type === 'health' && pass.service === 'db' && pass.healthy);
  // Timed to the pass, not to `up` (which also starts api: engine time a loaded host stretches). The bound only has
  // to tell a start probe from Docker's own first check, 30 s away.
  const opened = pass.time - touched;
  assert.ok(opened >= 0 && opened < 10_000, `the probe passed ${opened} ms after the file appeared (Docker's first check is 30 s away)`);

  const probes = p.execs.get(dbId) ?? 0;
  assert.equal(pass.probes, probes, 'the event counts every probe');
  await sleep(600);
  assert.equal(p.execs.get(dbId), probes, 'no probe after the first pass');
  await p.loop.reconcileNow();
  const row = p.loop.status().find((r) => r.service === 'db');
  assert.equal(row?.health, 'healthy');
  assert.equal(row?.engineHealth, 'starting');
});

test('a failing healthcheck never opens its gate', { timeout: 60_000 }, async () => {
  const p = loopFor([box('bad', { healthcheck: check('exit 1') }), box('behind', { dependsOn: { bad: dep('service_healthy') } })], 1_500);
  await assert.rejects(p.loop.reconcileNow(), /CMESH_E_TIMEOUT|timed out/);
  assert.equal(p.exists('behind'), false);
  // How many execs fit in the 1.5 s gate depends on the engine's load; that it was probed (and failed) does not.
  assert.ok((p.execs.get(p.id('bad')) ?? 0) >= 1, 'it was probed');
  assert.ok(!p.events.some((e) => e.type === 'health' && e.source === 'probe'));
});

test('a hanging healthcheck is bounded by its timeout: one probe process at a time, never healthy', { timeout: 60_000 }, async () => {
  const p = loopFor([box('hang', { healthcheck: check('sleep 2', { timeoutMs: 200 }) })], 5_000);
  await p.loop.reconcileNow();
  const started = Date.now();
  let most = 0;
  while (Date.now() - started < 4_500) {
    const top = docker('top', `${p.name}-hang-1`, '-o', 'pid,args');
    most = Math.max(most, top.split('\n').filter((l) => /sleep 2$/.test(l.trim())).length);
    await sleep(150);
  }
  assert.equal(most, 1, 'a probe past its timeout blocks the next one until its process ends');
  const probes = p.execs.get(p.id('hang')) ?? 0;
  // One at a time bounds it from above; a loaded engine may start the second one late, so no bound from below.
  assert.ok(probes >= 1 && probes <= 3, `${probes} probes in 4.5 s of 2 s hangs (one at a time: at most 3)`);
  await assert.rejects(p.loop.waitReady({ services: ['hang'], timeoutMs: 200 }), /not ready/);
  assert.ok(!p.events.some((e) => e.type === 'health' && e.source === 'probe'));
});
