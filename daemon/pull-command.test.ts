// `cmesh pull` in the daemon (pullProject): Compose's skips, failures that fail the verb or are reported, build services.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PullRequest } from './api/control.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { pullProject } from './pull-command.ts';
import { MemoryPullTimes } from './pull-state.ts';
import { project, svc } from './reconcile/testing.ts';

const REG = '127.0.0.1:5998';
let configDir: string;
before(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'cm-pullcmd-'));
});
after(() => rm(configDir, { recursive: true, force: true }));

const build = { context: '/nowhere', dockerfile: 'Dockerfile', args: {}, labels: {} };
const spec = project('p', [
  svc('a', { image: `${REG}/a:1` }),
  svc('present', { image: `${REG}/present:1`, pullPolicy: 'missing' }),
  svc('latest', { image: `${REG}/latest`, pullPolicy: 'missing' }),
  svc('nv', { image: `${REG}/nv:1`, pullPolicy: 'never' }),
  svc('built', { image: undefined, build }),
  svc('buildable', { image: `${REG}/missing:1`, build }),
  svc('bad', { image: `${REG}/a:nope` }),
]);

function pull(engine: FakeEngine, services: string[], ignoreFailures = false) {
  const events: DaemonEvent[] = [];
  const request: PullRequest = { project: spec, services, ignoreFailures, dockerConfig: configDir };
  return { run: pullProject({ engine, request, emit: (e) => events.push(e), times: new MemoryPullTimes() }), events };
}

test('pulls what Compose pulls, skips the rest with a reason; a buildable service only reports its failure', async () => {
  const engine = new FakeEngine({ strictImages: true });
  for (const r of ['a:1', 'present:1', 'latest']) engine.registry.add(`${REG}/${r}`);
  engine.addImage(`${REG}/present:1`);
  engine.addImage(`${REG}/latest`);
  const { run, events } = pull(engine, ['a', 'present', 'latest', 'nv', 'built', 'buildable']);
  const result = await run;
  assert.deepEqual(result.pulled, ['a', 'latest']);
  assert.deepEqual(Object.keys(result.skipped).sort(), ['built', 'nv', 'present']);
  assert.match(result.skipped['nv'] ?? '', /pull_policy: never/);
  assert.deepEqual(Object.keys(result.failed), ['buildable'], 'a service that can be built does not fail pull');
  assert.ok(events.some((e) => e.type === 'pull' && e.service === 'nv' && e.phase === 'skipped'));
});

test('a failure fails the verb unless ignoreFailures; unknown services are CMESH_E_SERVICE_NOT_FOUND', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/a:1`);
  await assert.rejects(pull(engine, ['a', 'bad']).run, (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_IMAGE_NOT_FOUND' && /service "bad"/.test(e.message));
  const ignored = await pull(engine, ['a', 'bad'], true).run;
  assert.deepEqual(ignored.pulled, ['a']);
  assert.equal(ignored.failed['bad']?.code, 'CMESH_E_IMAGE_NOT_FOUND');
  await assert.rejects(pull(engine, ['zzz']).run, (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_SERVICE_NOT_FOUND');
});
