// The reconcile loop against the real engine: up, scale, self-heal after `docker rm -f`, spec change, down.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import type { ContainerEngine } from '../api/engine.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { ServiceSpec } from '../api/project.ts';
import { createDockerEngine } from '../engine/dockerode-engine.ts';
import { ProjectReconciler } from './loop.ts';
import { desired, project, svc } from './testing.ts';
import { dockerTestFile } from '../../test/helpers/docker.ts';
import { assertReached, expectedReach } from '../../test/helpers/replica-reach.ts';

await dockerTestFile();

const IMAGE = 'cmesh/busybox:local';
const NAME = `rt-${randomBytes(4).toString('hex')}`;
const TEST_LABELS = { 'dev.cmesh.test': 'true' };
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();

function httpd(name: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return svc(name, {
    image: IMAGE,
    command: ['sh', '-c', `mkdir -p /www && echo "${name} $HOSTNAME" > /www/index.html && exec busybox httpd -f -p 8080 -h /www`],
    expose: [8080],
    replicas: 2,
    labels: { ...TEST_LABELS },
    stopGracePeriodMs: 1_000,
    ...overrides,
  });
}

const spec = project(NAME, [
  httpd('web'),
  httpd('api', {
    healthcheck: { test: ['CMD', 'wget', '-q', '-O-', 'http://127.0.0.1:8080/'], intervalMs: 500, timeoutMs: 2_000, retries: 3, disable: false },
  }),
]);
spec.networks['default']!.labels = { ...TEST_LABELS };

let engine: ContainerEngine;
let current: DesiredProject | undefined = desired(spec, { updatedAt: Date.now() });
const events: DaemonEvent[] = [];
const abort = new AbortController();
let loop: ProjectReconciler;

before(() => {
  try {
    docker('image', 'inspect', IMAGE);
  } catch {
    // Builds scratch + the host's static busybox; never pulls.
    execFileSync('bash', [join(import.meta.dirname, '../../scripts/build-base-images.sh')], { stdio: 'inherit' });
  }
  engine = createDockerEngine();
  loop = new ProjectReconciler({ engine, name: NAME, getDesired: () => current, emit: (e) => events.push(e), signal: abort.signal });
});

after(() => {
  abort.abort();
  // Cleanup even when a step failed: only what carries this run's project label.
  const ids = docker('ps', '-aq', '--filter', `label=dev.cmesh.project=${NAME}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
  const nets = docker('network', 'ls', '-q', '--filter', `label=dev.cmesh.project=${NAME}`).split('\n').filter(Boolean);
  if (nets.length > 0) docker('network', 'rm', ...nets);
});

function change(update: (d: DesiredProject) => DesiredProject): void {
  const d = current!;
  current = update({ ...d, generation: d.generation + 1, updatedAt: Date.now() });
}

async function running(): Promise<Record<string, string[]>> {
  const list = await engine.listContainers({ labels: { 'dev.cmesh.project': NAME }, all: true });
  const out: Record<string, string[]> = {};
  for (const c of list.filter((x) => x.state === 'running')) {
    const service = c.labels['dev.cmesh.service']!;
    out[service] = [...(out[service] ?? []), c.name];
  }
  for (const names of Object.values(out)) names.sort();
  return out;
}

async function converge(): Promise<void> {
  await loop.reconcileNow();
  await loop.waitReady({ services: [], timeoutMs: 30_000 });
  await loop.reconcileNow(); // refresh status() with the final states and health
}

test('up: 2 services x 2 replicas run and answer on their 127.0.0.1 endpoints', async () => {
  await converge();
  assert.deepEqual(await running(), {
    api: [`${NAME}-api-1`, `${NAME}-api-2`],
    web: [`${NAME}-web-1`, `${NAME}-web-2`],
  });
  const rows = loop.status();
  assert.equal(rows.length, 4);
  for (const row of rows) {
    const ep = row.endpoints.find((e) => e.containerPort === 8080);
    assert.ok(ep, `${row.name} has an endpoint for 8080`);
    assertReached(await expectedReach(), [ep], row.name);
    const body = await (await fetch(`http://${ep.host}:${ep.hostPort}/`)).text();
    assert.match(body, new RegExp(`^${row.service} `));
    if (row.service === 'api') assert.equal(row.health, 'healthy');
  }
});

test('scale: web 3, api 1', async () => {
  change((d) => ({ ...d, scale: { web: 3, api: 1 } }));
  await converge();
  assert.deepEqual(await running(), {
    api: [`${NAME}-api-1`],
    web: [`${NAME}-web-1`, `${NAME}-web-2`, `${NAME}-web-3`],
  });
});

test('self-heal: a replica removed with docker rm -f comes back', async () => {
  const victim = `${NAME}-web-2`;
  const oldId = docker('inspect', '-f', '{{.Id}}', victim);
  docker('rm', '-f', victim);
  loop.wake('engine event: destroy');
  await converge();
  const newId = docker('inspect', '-f', '{{.Id}}', victim);
  assert.notEqual(newId, oldId);
  assert.equal((await running())['web']?.length, 3);
});

test('spec change: replicas are recreated with the new spec hash', async () => {
  const before = docker('inspect', '-f', '{{.Id}} {{index .Config.Labels "dev.cmesh.spec-hash"}}', `${NAME}-api-1`);
  change((d) => {
    const api = { ...d.project.services['api']!, environment: { GREETING: 'v2' } };
    return { ...d, project: { ...d.project, services: { ...d.project.services, api } } };
  });
  await converge();
  const after = docker('inspect', '-f', '{{.Id}} {{index .Config.Labels "dev.cmesh.spec-hash"}}', `${NAME}-api-1`);
  assert.notEqual(after.split(' ')[0], before.split(' ')[0]);
  assert.notEqual(after.split(' ')[1], before.split(' ')[1]);
  assert.match(docker('inspect', '-f', '{{json .Config.Env}}', `${NAME}-api-1`), /GREETING=v2/);
  assert.ok(events.some((e) => e.type === 'container' && e.action === 'removed' && e.service === 'api'));
});

test('down: nothing with the project label is left', async () => {
  current = undefined;
  await loop.down({ volumes: true, removeOrphans: true });
  assert.equal(docker('ps', '-aq', '--filter', `label=dev.cmesh.project=${NAME}`), '');
  assert.equal(docker('network', 'ls', '-q', '--filter', `label=dev.cmesh.project=${NAME}`), '');
});
