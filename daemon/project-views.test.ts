// `ps` rows: a fresh engine list merged with what the reconcile loop knows (restarts, start-probe health).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaStatus } from './api/control.ts';
import { projectSummaries, replicaRows } from './project-views.ts';
import { ctr, desired, project, svc } from './reconcile/testing.ts';

const d = desired(project('shop', [svc('db')]));

test('ps shows a start-probed replica healthy, with Docker’s starting beside it, only for the same start', () => {
  const listed = ctr(d, 'db', 1, { health: 'starting', startedAt: undefined });
  const loop: ReplicaStatus = {
    project: 'shop',
    service: 'db',
    replica: 1,
    container: listed.id,
    name: listed.name,
    state: 'running',
    health: 'healthy',
    engineHealth: 'starting',
    endpoints: [],
    restarts: 2,
    image: listed.image,
    createdAt: listed.createdAt,
  };
  const [row] = replicaRows([listed], [loop], { all: false, services: [] });
  assert.equal(row?.health, 'healthy');
  assert.equal(row?.engineHealth, 'starting');
  assert.equal(row?.restarts, 2);
  // Docker judged meanwhile: its word, no note.
  const [judged] = replicaRows([{ ...listed, health: 'unhealthy' }], [loop], { all: false, services: [] });
  assert.equal(judged?.health, 'unhealthy');
  assert.equal(judged?.engineHealth, undefined);
  // A later start of the same container is not covered by the old probe.
  const [restarted] = replicaRows([{ ...listed, startedAt: 5 }], [{ ...loop, startedAt: 4 }], { all: false, services: [] });
  assert.equal(restarted?.health, 'starting');
});

test('ps and ls leave the east-west gateway out: it is cmesh’s, not a replica of the user’s', () => {
  const replica = ctr(d, 'db', 1);
  const gateway = { ...ctr(d, 'db', 2), id: 'g'.repeat(64), name: 'shop-cmesh-gateway', labels: { 'dev.cmesh.project': 'shop', 'dev.cmesh.managed': 'true', 'dev.cmesh.role': 'gateway' } };
  assert.deepEqual(replicaRows([replica, gateway], [], { all: true, services: [] }).map((r) => r.name), [replica.name]);
  const [summary] = projectSummaries([replica, gateway], new Map([['shop', d]]));
  assert.deepEqual([summary?.running, summary?.total], [1, 1]);
});
