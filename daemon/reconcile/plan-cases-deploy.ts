// Golden cases of deploy.update_config on a proxied service: order stop-first recreates instead of rolling start-first,
// parallelism sets how many replicas roll at once (0 = all), and x-cmesh.rollout.max_surge still wins.

import type { PlanCase } from './plan-case.ts';
import { ctr, desired, project, svc } from './testing.ts';

const published = [{ target: 3000, published: 8080, protocol: 'tcp' as const }];
const MESH = svc('defaults').mesh;

const stopFirst = desired(project('upd', [svc('web', { replicas: 2, ports: published, update: { order: 'stop-first' } })]));
const parallel = desired(project('upd', [svc('web', { replicas: 3, ports: published, update: { parallelism: 0, order: 'start-first' } })]));
const surgeWins = desired(project('upd', [svc('web', { replicas: 3, ports: published, update: { parallelism: 3 }, mesh: { ...MESH, rollout: { maxSurge: 2 } } })]));

const stale = (d: typeof stopFirst, n: number) => Array.from({ length: n }, (_, i) => ctr(d, 'web', i + 1, { stale: true }));

export const deployCases: PlanCase[] = [
  { name: 'update-config-stop-first', desired: stopFirst, containers: stale(stopFirst, 2) },
  { name: 'update-config-parallelism-all', desired: parallel, containers: stale(parallel, 3) },
  { name: 'update-config-max-surge-wins', desired: surgeWins, containers: stale(surgeWins, 3) },
];
