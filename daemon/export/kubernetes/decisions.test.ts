// Every field the decision tables mark `warn` produces a warning at services.<name>.<compose key> and an entry in the
// cmesh.dev/unsupported annotation when a service sets it: one sample per field, and the test fails when a `warn`
// row has no sample. Fields mapped only in part warn for the part they cannot carry (second table).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ContainerOptions, ResourceOptions } from '../../api/container-options.ts';
import type { MeshSpec, ServiceSpec } from '../../api/project.ts';
import { loadProject, loadProjectFromSources } from '../../config/index.ts';
import { type Decision, MESH_DECISIONS, OPTION_DECISIONS, RESOURCE_DECISIONS, SERVICE_DECISIONS } from './decisions.ts';
import { exportKubernetes } from './export.ts';
import { UNSUPPORTED_ANNOTATION } from './findings.ts';

type Mutate = (s: ServiceSpec) => void;
const opt = (o: ContainerOptions): Mutate => (s) => {
  s.options = { ...s.options, ...o };
};
const res = (r: ResourceOptions): Mutate => opt({ resources: r });
const mesh = (m: Partial<MeshSpec>): Mutate => (s) => {
  s.mesh = { ...s.mesh, ...m };
};

const SERVICE_SAMPLES: Partial<Record<keyof ServiceSpec, Mutate>> = {
  build: (s) => {
    delete s.image;
    s.build = { context: '/proj/app', dockerfile: 'Dockerfile', args: {}, labels: {} };
  },
  dependsOn: (s) => {
    s.dependsOn = { db: { condition: 'service_started', restart: false, required: true } };
  },
  restart: (s) => {
    s.restart = 'no';
  },
  restartMaxRetries: (s) => {
    s.restartMaxRetries = 3;
  },
  restartDelayMs: (s) => {
    s.restartDelayMs = 5000;
  },
  restartWindowMs: (s) => {
    s.restartWindowMs = 60_000;
  },
  useApiSocket: (s) => {
    s.useApiSocket = true;
  },
  update: (s) => {
    s.update = { parallelism: 2 };
  },
  networks: (s) => {
    s.networks = { back: { aliases: [] } };
  },
  stopSignal: (s) => {
    s.stopSignal = 'SIGINT';
  },
  watch: (s) => {
    s.watch = [{ action: 'sync', path: '/proj/src', ignore: [] }];
  },
};

const OPTION_SAMPLES: Partial<Record<keyof ContainerOptions, Mutate>> = {
  containerName: opt({ containerName: 'one' }),
  domainname: opt({ domainname: 'example.com' }),
  macAddress: opt({ macAddress: '02:42:ac:11:00:02' }),
  init: opt({ init: true }),
  volumesFrom: opt({ volumesFrom: ['service:db'] }),
  externalLinks: opt({ externalLinks: ['legacy:db'] }),
  ulimits: opt({ ulimits: { nofile: { soft: 1024, hard: 2048 } } }),
  devices: opt({ devices: [{ source: '/dev/kmsg', target: '/dev/kmsg', permissions: 'rwm' }] }),
  deviceCgroupRules: opt({ deviceCgroupRules: ['c 1:3 mr'] }),
  dns: opt({ dns: ['8.8.8.8'] }),
  networkMode: opt({ networkMode: 'host' }),
  uts: opt({ uts: 'host' }),
  userns: opt({ userns: 'host' }),
  cgroup: opt({ cgroup: 'host' }),
  cgroupParent: opt({ cgroupParent: 'custom' }),
  logging: opt({ logging: { driver: 'syslog', options: {} } }),
  runtime: opt({ runtime: 'runsc' }),
  storageOpt: opt({ storageOpt: { size: '1G' } }),
};

const rate = [{ path: '/dev/sda', rate: 1000 }];
const RESOURCE_SAMPLES: Partial<Record<keyof ResourceOptions, Mutate>> = {
  pidsLimit: res({ pidsLimit: 100 }),
  cpuShares: res({ cpuShares: 512 }),
  cpuPeriodUs: res({ cpuPeriodUs: 100_000 }),
  cpuQuotaUs: res({ cpuQuotaUs: 50_000 }),
  cpuRtPeriodUs: res({ cpuRtPeriodUs: 1000 }),
  cpuRtRuntimeUs: res({ cpuRtRuntimeUs: 500 }),
  cpuset: res({ cpuset: '0-1' }),
  memorySwapBytes: res({ memorySwapBytes: -1 }),
  memorySwappiness: res({ memorySwappiness: 0 }),
  oomKillDisable: res({ oomKillDisable: true }),
  oomScoreAdj: res({ oomScoreAdj: 100 }),
  blkioWeight: res({ blkioWeight: 300 }),
  blkioWeightDevice: res({ blkioWeightDevice: [{ path: '/dev/sda', weight: 200 }] }),
  blkioDeviceReadBps: res({ blkioDeviceReadBps: rate }),
  blkioDeviceWriteBps: res({ blkioDeviceWriteBps: rate }),
  blkioDeviceReadIops: res({ blkioDeviceReadIops: rate }),
  blkioDeviceWriteIops: res({ blkioDeviceWriteIops: rate }),
  gpus: res({ gpus: [{ count: 1, capabilities: [['gpu']] }] }),
};

const MESH_SAMPLES: Partial<Record<keyof MeshSpec, Mutate>> = {
  lb: mesh({ lb: 'random' }),
  weights: mesh({ weights: [1, 3] }),
  weight: mesh({ weight: 5 }),
  retries: mesh({ retries: 0 }),
  timeouts: mesh({ timeouts: { connectMs: 1000, requestMs: 30_000, idleMs: 60_000 } }),
  bind: mesh({ bind: '0.0.0.0' }),
  hashKey: mesh({ lb: 'ring-hash', hashKey: 'ip' }),
  accessLog: mesh({ accessLog: true }),
  upstream: mesh({ upstream: 'h2c' }),
  policy: mesh({ policy: { rateLimit: { requestsPerSecond: 5, burst: 5, key: 'ip' } } }),
  tls: mesh({ tls: { hosts: [], clientAuth: 'none' } }),
};

function baseProject() {
  const text = 'services:\n  s:\n    image: app:1\n    ports: ["8080:80"]\n';
  return loadProjectFromSources([{ file: '/proj/compose.yaml', text }], { env: {} }).project;
}

/** Exports one service after `mutate` and returns its warnings' paths and the Deployment's annotation. */
function exportWith(mutate: Mutate, expose?: 'ingress'): { paths: string[]; annotation: string } {
  const project = baseProject();
  const s = project.services['s'];
  assert.ok(s);
  mutate(s);
  const result = exportKubernetes(project, { readFile: () => '', ...(expose ? { expose } : {}) });
  for (const o of result.objects) o.validate();
  const deployment = result.objects.find((o) => o.kind === 'Deployment');
  return { paths: result.warnings.map((w) => w.path ?? ''), annotation: deployment?.metadata?.annotations?.[UNSUPPORTED_ANNOTATION] ?? '' };
}

const TABLES: [string, Record<string, Decision>, Partial<Record<string, Mutate>>][] = [
  ['service', SERVICE_DECISIONS, SERVICE_SAMPLES],
  ['container option', OPTION_DECISIONS, OPTION_SAMPLES],
  ['resource', RESOURCE_DECISIONS, RESOURCE_SAMPLES],
  ['x-cmesh', MESH_DECISIONS, MESH_SAMPLES],
];

test('the base service exports without a warning (so each warning below comes from its sample)', () => {
  assert.deepEqual(exportWith(() => {}).paths, []);
});

for (const [table, decisions, samples] of TABLES) {
  for (const [field, d] of Object.entries(decisions)) {
    if (d.kind !== 'warn') continue;
    test(`${table} field ${field} (${d.key}) is warned and annotated`, () => {
      const mutate = samples[field];
      assert.ok(mutate, `no sample for the warned ${table} field ${field}: add one to decisions.test.ts`);
      const { paths, annotation } = exportWith(mutate);
      assert.ok(paths.includes(`services.s.${d.key}`), `warnings: ${paths.join(', ')}`);
      assert.ok(annotation.split(', ').includes(d.key), `annotation: ${annotation}`);
    });
  }
}

const PARTIAL: [string, Mutate, string, 'ingress'?][] = [
  ['bind mount', (s) => s.volumes.push({ type: 'bind', source: '/proj/data', target: '/data', readOnly: false }), 'volumes[0]'],
  ['user by name', (s) => (s.user = 'postgres'), 'user'],
  ['pid other than host', opt({ pid: 'container:other' }), 'pid'],
  ['ipc other than host', opt({ ipc: 'shareable' }), 'ipc'],
  ['security_opt other than no-new-privileges', opt({ securityOpt: ['seccomp=unconfined'] }), 'security_opt[0]'],
  ['group_add by name', opt({ groupAdd: ['audio'] }), 'group_add'],
  ['extra_hosts host-gateway', opt({ extraHosts: [{ host: 'host.docker.internal', ip: 'host-gateway' }] }), 'extra_hosts'],
  ['tmpfs mode option', opt({ tmpfs: { '/run': 'size=1m,mode=1777' } }), 'tmpfs'],
  ['hostname with dots', opt({ hostname: 'api.example.com' }), 'hostname'],
  ['label key Kubernetes refuses', (s) => (s.labels = { 'bad key!': 'x', 'com.example/ok': 'y' }), 'labels'],
  ['pull_policy daily', (s) => (s.pullPolicy = 'daily'), 'pull_policy'],
  ['healthcheck test that is no command', (s) => (s.healthcheck = { test: ['CMD'], disable: false }), 'healthcheck.test'],
  ['secret uid', (s) => (s.secrets = [{ source: 'k', target: '/run/secrets/k', uid: 1000 }]), 'secrets[0]'],
  ['published port range', (s) => Object.assign(s.ports[0] ?? {}, { publishedEnd: 8090 }), 'ports[0]', 'ingress'],
  ['post_start with its own user', (s) => (s.postStart = [{ command: ['true'], user: 'root', environment: {} }]), 'post_start'],
  ['two pre_stop hooks', (s) => (s.preStop = [{ command: ['a'], environment: {} }, { command: ['b'], environment: {} }]), 'pre_stop'],
  ['non-HTTP port behind an Ingress', (s) => (s.mesh = { ...s.mesh, protocol: 'tcp' }), 'ports[0]', 'ingress'],
];

for (const [what, mutate, key, expose] of PARTIAL) {
  test(`partly mapped: ${what} is warned at ${key}`, () => {
    const { paths, annotation } = exportWith(mutate, expose);
    assert.ok(paths.includes(`services.s.${key}`), `warnings: ${paths.join(', ')}`);
    assert.ok(annotation.split(', ').includes(key), `annotation: ${annotation}`);
  });
}

test('tsc holds the tables complete: a contract with one more field does not fit them', () => {
  // Checked by `npm run lint` (tsc): were Record<keyof …> not exhaustive, this directive would be unused and fail.
  // @ts-expect-error a ServiceSpec with a field the table has no row for
  const services: Record<keyof (ServiceSpec & { added: string }), Decision> = SERVICE_DECISIONS;
  // @ts-expect-error the same for container options
  const options: Record<keyof (ContainerOptions & { added: string }), Decision> = OPTION_DECISIONS;
  assert.ok(services && options);
});

test('every field a fully loaded service carries has a decision (runtime twin of the tsc check)', async () => {
  const file = join(fileURLToPath(new URL('../../..', import.meta.url)), 'fixtures/export/kubernetes/full/compose.yaml');
  const { project } = await loadProject({ cwd: '/', files: [file], env: {} });
  for (const s of Object.values(project.services)) {
    for (const k of Object.keys(s)) assert.ok(k in SERVICE_DECISIONS, `ServiceSpec.${k} has no decision`);
    for (const k of Object.keys(s.options ?? {})) assert.ok(k in OPTION_DECISIONS, `ContainerOptions.${k} has no decision`);
    for (const k of Object.keys(s.mesh)) assert.ok(k in MESH_DECISIONS, `MeshSpec.${k} has no decision`);
  }
  assert.ok(readFileSync(file, 'utf8').includes('env_file'));
});
