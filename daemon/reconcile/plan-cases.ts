// Golden plan cases: desired + observed + context per case; plan.test.ts renders each into fixtures/plans/<name>.txt.

import type { ContainerInfo, NetworkInfo, VolumeInfo } from '../api/engine.ts';
import type { PlanCase } from './plan-case.ts';
import { deployCases } from './plan-cases-deploy.ts';
import { gatewayCases } from './plan-cases-gateway.ts';
import { gatewayLiveCases } from './plan-cases-gateway-live.ts';
import { namespaceCases } from './plan-cases-namespaces.ts';
import { rolloutCases } from './plan-cases-rollout.ts';
import { oneOffLabels } from '../api/labels.ts';
import { ctr, dep, desired, NOW, project, svc, UPDATED_AT } from './testing.ts';

export type { PlanCase } from './plan-case.ts';

const net = (name: string): NetworkInfo => ({ id: `n-${name}`, name, labels: {} });
const vol = (name: string): VolumeInfo => ({ name, labels: {} });

// A three-tier app: web → api → db (healthy), api also waits for a one-shot migration.
const tiers = project('shop', [
  svc('db', { healthcheck: { test: ['CMD', 'pg_isready'], intervalMs: 1_000, disable: false }, restart: 'unless-stopped' }),
  svc('migrate', { restart: 'no', dependsOn: { db: dep('service_healthy') }, command: ['migrate', 'up'] }),
  svc('api', { replicas: 2, dependsOn: { db: dep('service_healthy'), migrate: dep('service_completed_successfully') } }),
  svc('web', { replicas: 2, dependsOn: { api: dep('service_started') }, ports: [{ target: 8080, published: 80, protocol: 'tcp' }] }),
]);
const shop = desired(tiers);
const shopAll = (): ContainerInfo[] => [
  ctr(shop, 'db', 1, { health: 'healthy' }),
  ctr(shop, 'migrate', 1, { state: 'exited', exitCode: 0, finishedAt: UPDATED_AT + 5_000 }),
  ctr(shop, 'api', 1),
  ctr(shop, 'api', 2),
  ctr(shop, 'web', 1),
  ctr(shop, 'web', 2),
];

const simple = desired(project('demo', [svc('web', { replicas: 2 }), svc('cache')]));
const simpleAll = (): ContainerInfo[] => [ctr(simple, 'web', 1), ctr(simple, 'web', 2), ctr(simple, 'cache', 1)];
/** A `cmesh run web` container: project labels and the one-off label, no service or replica label. */
const oneoff = (tag: string, state: ContainerInfo['state'] = 'running'): ContainerInfo => ({
  ...ctr(simple, 'web', 1, { state }),
  id: `c-run-${tag}`,
  name: `demo-web-run-${tag}`,
  labels: oneOffLabels('demo', 'web'),
});

const policies = desired(
  project('pol', [
    svc('never', { restart: 'no' }),
    svc('fail-ok', { restart: 'on-failure' }),
    svc('fail-max', { restart: 'on-failure', restartMaxRetries: 3 }),
    svc('unless', { restart: 'unless-stopped' }),
    svc('always', { restart: 'always' }),
  ]),
);
const exitedAgo = (code: number, agoMs = 10_000) => ({ state: 'exited' as const, exitCode: code, finishedAt: NOW - agoMs });

const withVolumes = desired(
  project('data', [svc('db', { volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/pg', readOnly: false }] })], {
    volumes: { pgdata: { name: 'pgdata', engineName: 'data_pgdata', external: false, labels: {} } },
    networks: {
      default: { name: 'default', engineName: 'data_default', external: false, internal: false, labels: {} },
      shared: { name: 'shared', engineName: 'shared', external: true, internal: false, labels: {} },
    },
  }),
);

const cyclic = desired(
  project('loop', [svc('a', { dependsOn: { c: dep() } }), svc('b', { dependsOn: { a: dep() } }), svc('c', { dependsOn: { b: dep() } })]),
);

const built = desired(project('app', [svc('api', { image: undefined, build: { context: '/src/app', dockerfile: 'Dockerfile', args: {}, labels: {} } })]));

export const cases: PlanCase[] = [
  { name: 'fresh-up', desired: shop, containers: [], networks: [] },
  { name: 'fresh-up-volumes', desired: withVolumes, containers: [], networks: [] },
  { name: 'no-op', desired: simple, containers: simpleAll() },
  {
    name: 'adopted-after-daemon-restart',
    desired: shop,
    containers: shopAll().map((c) => ({ ...c, restartCount: 2 })),
    ctx: { supervisor: { replicas: {} } },
  },
  { name: 'scale-up', desired: { ...simple, scale: { web: 4 } }, containers: simpleAll() },
  {
    name: 'scale-down',
    desired: { ...simple, scale: { web: 1, cache: 0 } },
    containers: [...simpleAll(), ctr(simple, 'web', 3, { state: 'exited', exitCode: 0 })],
  },
  { name: 'scale-gap', desired: { ...simple, scale: { web: 3 } }, containers: [ctr(simple, 'web', 1), ctr(simple, 'web', 3), ctr(simple, 'cache', 1)] },
  { name: 'spec-change', desired: simple, containers: [ctr(simple, 'web', 1, { stale: true }), ctr(simple, 'web', 2, { stale: true }), ctr(simple, 'cache', 1)] },
  {
    name: 'image-rebuilt',
    desired: built,
    containers: [ctr(built, 'api', 1)],
    ctx: { imageIds: { api: 'sha256:2222222222222222222222222222222222222222222222222222222222222222' } },
  },
  {
    name: 'duplicates',
    desired: simple,
    containers: [
      ...simpleAll(),
      ctr(simple, 'web', 1, { dup: 'newer-exited', createdAt: NOW - 1_000, state: 'exited', exitCode: 0 }),
      ctr(simple, 'web', 1, { dup: 'newer-running', createdAt: NOW - 2_000 }),
    ],
  },
  // A running or finished one-off is neither a replica to count nor an orphan to remove, even with --remove-orphans.
  { name: 'oneoff-left-alone', desired: simple, containers: [...simpleAll(), oneoff('a1'), oneoff('b2', 'exited')], ctx: { removeOrphans: true } },
  {
    name: 'down-removes-oneoffs',
    desired: simple,
    containers: [...simpleAll(), oneoff('a1'), oneoff('b2', 'exited')],
    down: { volumes: false, removeOrphans: false },
  },
  { name: 'orphans-kept', desired: simple, containers: [...simpleAll(), ctr(simple, 'old', 1)] },
  { name: 'orphans-removed', desired: simple, containers: [...simpleAll(), ctr(simple, 'old', 1), ctr(simple, 'old', 2, { state: 'exited' })], ctx: { removeOrphans: true } },
  { name: 'depends-recreate-dependency-only', desired: shop, containers: shopAll().map((c) => (c.id === 'c-db-1' ? { ...c, labels: { ...c.labels, 'dev.cmesh.spec-hash': 'old' } } : c)) },
  {
    name: 'depends-gates-when-dependents-start',
    desired: shop,
    containers: shopAll().filter((c) => !c.id.startsWith('c-web')).map((c) => (c.id === 'c-api-2' ? { ...c, state: 'created' as const } : c)),
  },
  {
    name: 'crash-of-dependent-restarts-without-gate',
    desired: shop,
    containers: shopAll().map((c) => (c.id === 'c-api-1' ? { ...c, state: 'exited' as const, exitCode: 1, startedAt: NOW - 12_000, finishedAt: NOW - 10_000 } : c)),
  },
  { name: 'cycle-rejected', desired: cyclic, containers: [] },
  {
    name: 'stopped-service',
    desired: { ...simple, stopped: ['web'], scale: { web: 3 } },
    containers: [ctr(simple, 'web', 1), ctr(simple, 'web', 2, { state: 'exited', exitCode: 0, stale: true }), ctr(simple, 'cache', 1)],
  },
  {
    name: 'crash-backoff-pending',
    desired: simple,
    containers: [ctr(simple, 'web', 1, { state: 'exited', exitCode: 1, finishedAt: NOW - 500 }), ctr(simple, 'web', 2), ctr(simple, 'cache', 1)],
    ctx: { supervisor: { replicas: { 'web#1': { attempts: 2, total: 2, lastRestartAt: NOW - 3_000 } } } },
  },
  {
    name: 'crash-backoff-due',
    desired: simple,
    containers: [ctr(simple, 'web', 1, { state: 'exited', exitCode: 1, finishedAt: NOW - 5_000 }), ctr(simple, 'web', 2), ctr(simple, 'cache', 1)],
    ctx: { supervisor: { replicas: { 'web#1': { attempts: 2, total: 2, lastRestartAt: NOW - 8_000 } } } },
  },
  {
    name: 'crash-backoff-capped-and-reset',
    desired: simple,
    containers: [
      ctr(simple, 'web', 1, { state: 'exited', exitCode: 2, finishedAt: NOW - 1_000 }),
      ctr(simple, 'web', 2, { state: 'exited', exitCode: 2, startedAt: NOW - 1_300_000, finishedAt: NOW - 100 }),
      ctr(simple, 'cache', 1),
    ],
    ctx: { supervisor: { replicas: { 'web#1': { attempts: 12, total: 12 }, 'web#2': { attempts: 12, total: 12 } } } },
  },
  {
    name: 'restart-policies',
    desired: policies,
    containers: [
      ctr(policies, 'never', 1, exitedAgo(1)),
      ctr(policies, 'fail-ok', 1, exitedAgo(0)),
      ctr(policies, 'fail-max', 1, exitedAgo(3)),
      ctr(policies, 'unless', 1, exitedAgo(0)),
      ctr(policies, 'always', 1, exitedAgo(137)),
    ],
    ctx: { supervisor: { replicas: { 'fail-max#1': { attempts: 3, total: 3 } } } },
  },
  {
    name: 'unhealthy',
    desired: simple,
    containers: [ctr(simple, 'web', 1, { health: 'unhealthy' }), ctr(simple, 'web', 2, { health: 'unhealthy', startedAt: NOW - 2_000 }), ctr(simple, 'cache', 1)],
    ctx: { supervisor: { replicas: { 'web#2': { attempts: 3, total: 3, lastRestartAt: NOW - 2_000 } } } },
  },
  {
    name: 'selected-services',
    desired: { ...shop, selected: ['api'] },
    containers: [ctr(shop, 'db', 1, { health: 'healthy' })],
    networks: [net('shop_default')],
  },
  { name: 'selected-unknown', desired: { ...shop, selected: ['nope'] }, containers: [] },
  {
    name: 'half-finished-up',
    desired: shop,
    containers: [
      ctr(shop, 'db', 1, { health: 'healthy' }),
      ctr(shop, 'migrate', 1, { state: 'exited', exitCode: 0, finishedAt: UPDATED_AT + 5_000 }),
      ctr(shop, 'api', 1, { state: 'created', startedAt: undefined }),
    ],
  },
  {
    name: 'paused-and-engine-busy',
    desired: simple,
    containers: [ctr(simple, 'web', 1, { state: 'paused', stale: true }), ctr(simple, 'web', 2, { state: 'restarting' }), ctr(simple, 'cache', 1, { state: 'dead' })],
  },
  {
    name: 'user-start-after-exit',
    desired: { ...policies, selected: ['never'] },
    containers: [ctr(policies, 'never', 1, { state: 'exited', exitCode: 0, finishedAt: UPDATED_AT - 60_000 })],
  },
  {
    name: 'down',
    desired: shop,
    containers: [...shopAll(), ctr(shop, 'old', 1)],
    volumes: [vol('shop_data')],
    down: { volumes: false, removeOrphans: false },
  },
  {
    name: 'down-volumes-orphans',
    desired: shop,
    containers: [...shopAll(), ctr(shop, 'old', 1)],
    volumes: [vol('shop_data')],
    down: { volumes: true, removeOrphans: true },
  },
  {
    name: 'down-forgotten-project',
    desired: undefined,
    projectName: 'shop',
    containers: shopAll(),
    down: { volumes: false, removeOrphans: false },
  },
  ...rolloutCases,
  ...gatewayCases,
  ...gatewayLiveCases,
  ...namespaceCases,
  ...deployCases,
];
