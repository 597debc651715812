// A start probe's pass wakes gates and `--wait` as fresh: the waiter looks at once, with no engine settle in between.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeEngine } from '../engine/fake-engine.ts';
import { projectProbes } from './start-probe.ts';
import { desired, project, svc } from './testing.ts';
import { sleep } from './wait.ts';

test('a probe pass wakes the project as fresh; the engine list then shows the replica healthy', async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  engine.setExecHandler(() => ({ exitCode: 0, output: '' }));
  const d = desired(project('demo', [svc('db', { healthcheck: { test: ['CMD', 'true'], intervalMs: 30_000, disable: false } })]));
  const ac = new AbortController();
  const probes = projectProbes({ engine, project: 'demo', getDesired: () => d, emit: () => {}, signal: ac.signal });
  const wakes: (boolean | undefined)[] = [];
  const off = probes.wake((fresh) => wakes.push(fresh));
  try {
    const { id } = await engine.createContainer({
      name: 'demo-db-1',
      image: 'example/db:1',
      env: {},
      labels: { 'dev.cmesh.project': 'demo', 'dev.cmesh.service': 'db', 'dev.cmesh.replica': '1', 'dev.cmesh.managed': 'true' },
      ports: [],
      mounts: [],
      networks: [],
      init: false,
      healthcheck: d.project.services['db']!.healthcheck!,
    });
    await probes.engine.startContainer(id);
    assert.equal((await probes.engine.inspectContainer(id))?.health, 'starting', 'the start is seen: its probe begins');
    for (let i = 0; i < 200 && wakes.length === 0; i++) await sleep(5);
    assert.deepEqual(wakes, [true], 'one wake, marked fresh');
    const [listed] = await probes.engine.listContainers({ labels: { 'dev.cmesh.project': 'demo' }, all: true });
    assert.equal(listed?.health, 'healthy', 'what the woken waiter lists already carries the pass');
    assert.equal(listed?.engineHealth, 'starting');
  } finally {
    off();
    ac.abort();
  }
});
