// Golden translations: fixtures/swarm/<case>/compose.yaml → expected.json (networks, objects, services, warnings),
// loaded by the real config loader. UPDATE_GOLDEN=1 rewrites expected.json; review the diff like code.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Labels } from '../api/labels.ts';
import { loadProjectFromSources } from '../config/load.ts';
import { eastWestWarning, meshView, swarmNetworks, swarmObjects, swarmService, swarmSpecHash, swarmWarnings } from './translate.ts';

const DIR = fileURLToPath(new URL('../../fixtures/swarm/', import.meta.url));
const imageIdOf = (ref: string) => `sha256:${Buffer.from(ref).toString('hex').padEnd(64, '0').slice(0, 64)}`;

function translate(name: string) {
  const file = join(DIR, name, 'compose.yaml');
  const { project } = loadProjectFromSources([{ file, text: readFileSync(file, 'utf8') }], { env: { API_TOKEN: 't0ken' } });
  const contents: Record<string, Buffer> = {};
  for (const [kind, map] of [['secret', project.secrets], ['config', project.configs]] as const) {
    for (const [key, src] of Object.entries(map ?? {})) contents[`${kind}:${key}`] = Buffer.from(src.content ?? '');
  }
  const objects = swarmObjects(project, contents);
  const objectIds = Object.fromEntries(objects.map((o, i) => [`${o.kind}:${o.key}`, `obj${i}`]));
  const services = Object.values(project.services)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => swarmService(project, s, { imageId: imageIdOf(s.image ?? ''), replicas: s.replicas, objectIds }, objects));
  return { project, objects, services, out: { networks: swarmNetworks(project), objects, services, warnings: swarmWarnings(project, Object.keys(project.services).sort()) } };
}

for (const name of readdirSync(DIR).sort()) {
  test(`swarm golden ${name}`, () => {
    // Bind sources are absolute: the golden names the project directory, so it holds in any checkout. The spec hash
    // covers those sources too, so it is taken again over the spec as the golden shows it (checkout-independent).
    const dir = join(DIR, name);
    const out = JSON.parse(JSON.stringify(translate(name).out).replaceAll(dir, '<project-dir>')) as ReturnType<typeof translate>['out'];
    for (const s of out.services) s.Labels[Labels.specHash] = swarmSpecHash(s);
    const actual = `${JSON.stringify(out, null, 2)}\n`;
    const expectedFile = join(DIR, name, 'expected.json');
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(expectedFile, actual);
    assert.equal(actual, readFileSync(expectedFile, 'utf8'));
  });
}

test('every image is deployed by ID, never by tag; tasks carry no managed label (the local reconciler must not adopt them)', () => {
  for (const name of readdirSync(DIR)) {
    for (const s of translate(name).services) {
      assert.match(s.TaskTemplate.ContainerSpec.Image, /^sha256:[0-9a-f]{64}$/);
      assert.equal(s.Labels[Labels.managed], 'true');
      assert.equal(s.TaskTemplate.ContainerSpec.Labels[Labels.managed], undefined);
      assert.equal(s.TaskTemplate.ContainerSpec.Labels[Labels.project], 'shop');
    }
  }
});

test('the spec hash ignores the replica count and follows the image and the environment', () => {
  const { project, objects, services } = translate('web');
  const web = project.services['web']!;
  const at = (imageId: string, replicas: number, env = web.environment) =>
    swarmService(project, { ...web, environment: env }, { imageId, replicas, objectIds: {} }, objects).Labels[Labels.specHash];
  const base = services[0]!.TaskTemplate.ContainerSpec.Image;
  assert.equal(at(base, 1), at(base, 7));
  assert.notEqual(at(base, 3), at(`sha256:${'f'.repeat(64)}`, 3));
  assert.notEqual(at(base, 3), at(base, 3, { ...web.environment, MODE: 'dev' }));
  assert.equal(swarmSpecHash(services[0]!), services[0]!.Labels[Labels.specHash]);
});

test('a changed secret is a new object under a new name (swarm objects are immutable)', () => {
  const { project } = translate('grants-networks');
  const a = swarmObjects(project, { 'secret:token': Buffer.from('one') }).find((o) => o.kind === 'secret')!;
  const b = swarmObjects(project, { 'secret:token': Buffer.from('two') }).find((o) => o.kind === 'secret')!;
  assert.notEqual(a.name, b.name);
  assert.match(a.name, /^shop_token_[0-9a-f]{12}$/);
});

test('a port marked `mode: ingress` is Swarm’s to publish: the mesh view leaves it out, the proxy keeps the others', () => {
  const { project } = translate('web');
  const view = meshView({ project });
  assert.deepEqual(view.project.services['web']!.ports.map((p) => p.target), [8080]);
  assert.deepEqual(project.services['web']!.ports.map((p) => [p.target, p.mode]), [[8080, undefined], [9090, 'ingress']], 'the spec itself is untouched');
});

test('deploy.restart_policy delay/window and update_config order/parallelism reach the ServiceSpec; max_surge still wins', () => {
  const text = [
    'name: shop',
    'services:',
    '  api:',
    '    image: example/api:1',
    '    deploy:',
    '      restart_policy: { condition: on-failure, max_attempts: 4, delay: 3s, window: 1m }',
    '      update_config: { parallelism: 2, order: stop-first }',
    '',
  ].join('\n');
  const at = (extra = '') => {
    const { project } = loadProjectFromSources([{ file: '/proj/compose.yaml', text: text + extra }], { env: {} });
    return swarmService(project, project.services['api']!, { imageId: imageIdOf('x'), replicas: 1, objectIds: {} }, []);
  };
  const s = at();
  assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'on-failure', MaxAttempts: 4, Delay: 3e9, Window: 60e9 });
  assert.deepEqual(s.UpdateConfig, { Parallelism: 2, Order: 'stop-first', FailureAction: 'rollback' });
  assert.deepEqual(s.RollbackConfig, { Parallelism: 2, Order: 'stop-first' });
  assert.equal(at('    x-cmesh: { rollout: { max_surge: 3 } }\n').UpdateConfig.Parallelism, 3);
});

test('container options a Swarm ContainerSpec can express are sent, not warned', () => {
  const text = [
    'name: shop',
    'services:',
    '  api:',
    '    image: example/api:1',
    '    hostname: api-host',
    '    extra_hosts: ["db.local:10.0.0.5"]',
    '    dns: [10.0.0.2]',
    '    dns_search: [corp.example]',
    '    dns_opt: ["ndots:2"]',
    '    read_only: true',
    '    tty: true',
    '    stdin_open: true',
    '    group_add: [users]',
    '    sysctls: { net.core.somaxconn: 1024 }',
    '    cap_add: [NET_ADMIN]',
    '    cap_drop: [MKNOD]',
    '    ulimits: { nofile: { soft: 1024, hard: 2048 } }',
    '    logging: { driver: json-file, options: { max-size: 1m } }',
    '',
  ].join('\n');
  const { project } = loadProjectFromSources([{ file: '/proj/compose.yaml', text }], { env: {} });
  const s = swarmService(project, project.services['api']!, { imageId: imageIdOf('x'), replicas: 1, objectIds: {} }, []);
  const c = s.TaskTemplate.ContainerSpec;
  assert.deepEqual(
    [c.Hostname, c.Hosts, c.DNSConfig, c.ReadOnly, c.TTY, c.OpenStdin, c.Groups, c.Sysctls, c.CapabilityAdd, c.CapabilityDrop, c.Ulimits],
    [
      'api-host',
      ['10.0.0.5 db.local'],
      { Nameservers: ['10.0.0.2'], Search: ['corp.example'], Options: ['ndots:2'] },
      true,
      true,
      true,
      ['users'],
      { 'net.core.somaxconn': '1024' },
      ['NET_ADMIN'],
      ['MKNOD'],
      [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
    ],
  );
  assert.deepEqual(s.TaskTemplate.LogDriver, { Name: 'json-file', Options: { 'max-size': '1m' } });
  assert.deepEqual(swarmWarnings(project, ['api']), []);
});

test('the east-west mesh, on by default, is named at up for the services it would mesh: Swarm callers use its DNS and VIP', () => {
  const load = (top: string) =>
    loadProjectFromSources([{ file: '/p/compose.yaml', text: `name: ew\nservices:\n  api: { image: example/api:1, ports: ["8080"] }\n  worker: { image: example/w:1 }\n${top}` }], { env: {} }).project;
  const w = eastWestWarning(load(''), ['api', 'worker']);
  assert.equal(w?.key, 'x-cmesh.east_west');
  assert.match(w?.message ?? '', /^x-cmesh\.east_west: calls by name to api go through Swarm's DNS and VIP on the overlay, not the mesh: no retries/);
  assert.match(w?.message ?? '', /`x-cmesh: \{ east_west: false \}`/);
  assert.equal(eastWestWarning(load(''), ['worker']), undefined, 'no known port: the local target would not mesh it either');
  assert.equal(eastWestWarning(load('x-cmesh: { east_west: false }\n'), ['api']), undefined);
});
