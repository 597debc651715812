// Golden cases of start-first rollouts: proxied services roll one replica at a time; crashed rollouts converge.

import type { ContainerInfo } from '../api/engine.ts';
import { Labels, rolloutName } from '../api/labels.ts';
import type { PlanCase } from './plan-case.ts';
import { specHash } from './hash.ts';
import { ctr, desired, project, svc } from './testing.ts';

const app = desired(
  project('roll', [
    svc('web', { replicas: 3, ports: [{ target: 3000, published: 8080, protocol: 'tcp' }] }),
    // No published port: no proxy to hold traffic, so stop-first as before.
    svc('worker', { replicas: 2 }),
  ]),
);
const webHash = specHash(app.project, app.project.services['web']!);

/** A rollout's new container left behind under its temporary name (labels as the rollout creates them). */
function next(replica: number, options: { stale?: boolean; state?: ContainerInfo['state'] } = {}): ContainerInfo {
  const c = ctr(app, 'web', replica, { ...options, dup: 'next' });
  return { ...c, name: rolloutName('roll', 'web', replica), labels: { ...c.labels, [Labels.rollout]: 'next' }, createdAt: c.createdAt + 1 };
}

const worker = (): ContainerInfo[] => [ctr(app, 'worker', 1), ctr(app, 'worker', 2)];

/** `x-cmesh.rollout.max_surge`: 2 of 3 at once; 5 of 2 is clamped to the 2 that roll. */
const MESH = svc('defaults').mesh;
const surged = desired(
  project('surge', [
    svc('web', { replicas: 3, ports: [{ target: 3000, published: 8080, protocol: 'tcp' }], mesh: { ...MESH, rollout: { maxSurge: 2 } } }),
    svc('api', { replicas: 2, ports: [{ target: 4000, published: 8081, protocol: 'tcp' }], mesh: { ...MESH, rollout: { maxSurge: 5 } } }),
  ]),
);

export const rolloutCases: PlanCase[] = [
  {
    name: 'rollout-start-first',
    desired: app,
    containers: [1, 2, 3].map((i) => ctr(app, 'web', i, { stale: true })).concat(worker()),
  },
  {
    name: 'rollout-mixed-with-stop-first',
    desired: app,
    containers: [
      ctr(app, 'web', 1, { stale: true }),
      ctr(app, 'web', 2, { stale: true, state: 'exited' }),
      ctr(app, 'web', 3),
      ctr(app, 'worker', 1, { stale: true }),
      ctr(app, 'worker', 2),
    ],
  },
  {
    name: 'rollout-failed-not-retried',
    desired: app,
    containers: [1, 2, 3].map((i) => ctr(app, 'web', i, { stale: true })).concat(worker()),
    ctx: { failedRollouts: { web: webHash } },
  },
  {
    name: 'rollout-interrupted-promote',
    desired: app,
    containers: [ctr(app, 'web', 1), next(2), ctr(app, 'web', 3, { stale: true }), ...worker()],
  },
  {
    name: 'rollout-interrupted-restarts',
    desired: app,
    containers: [ctr(app, 'web', 1, { stale: true }), next(1), ctr(app, 'web', 2, { stale: true }), ctr(app, 'web', 3, { stale: true }), ...worker()],
  },
  {
    name: 'rollout-max-surge',
    desired: surged,
    containers: [1, 2, 3].map((i) => ctr(surged, 'web', i, { stale: true })).concat([1, 2].map((i) => ctr(surged, 'api', i, { stale: true }))),
  },
  {
    name: 'rollout-leftovers-removed',
    desired: { ...app, scale: { web: 1 } },
    containers: [ctr(app, 'web', 1), next(1, { state: 'exited' }), ctr(app, 'web', 2), next(2), ...worker()],
  },
];
