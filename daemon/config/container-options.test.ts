// The per-container compose keys: each form through the loader, bad values with their position, the loader's key
// lists in step with the readers, and the mapping onto Docker's create body.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOptions } from '../engine/container-spec.ts';
import { containerTemplate, createSpec } from '../reconcile/container-spec.ts';
import { CONTAINER_OPTION_KEYS } from './normalize/container-options.ts';
import { RESOURCE_KEYS } from './normalize/container-resources.ts';
import { parseByteSize } from './normalize/byte-size.ts';
import { SERVICE_KEYS, SERVICE_UNSUPPORTED } from './schema.ts';
import { load, loadError, service, where } from './test-helpers.ts';

const svc = (body: string) => service(`services:\n  web:\n${body.replace(/^/gm, '    ')}\n`, 'web');
const err = (body: string) => loadError(`services:\n  web:\n${body.replace(/^/gm, '    ')}\n`);

test('byte sizes as Compose reads them: binary units, optional b, decimals', () => {
  assert.equal(parseByteSize('512m'), 512 * 1024 ** 2);
  assert.equal(parseByteSize('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseByteSize('64KB'), 64 * 1024);
  assert.equal(parseByteSize('100'), 100);
  assert.equal(parseByteSize('2gib'), 2 * 1024 ** 3);
  assert.equal(parseByteSize('12x'), undefined);
  assert.equal(parseByteSize(''), undefined);
});

test('every reader key is a supported service key, and none is also listed as ignored', () => {
  for (const k of [...CONTAINER_OPTION_KEYS, ...RESOURCE_KEYS]) {
    assert.ok(SERVICE_KEYS.has(k), `${k} is read but schema.ts does not list it as supported`);
    assert.ok(!SERVICE_UNSUPPORTED.has(k), `${k} is read but schema.ts also warns it is ignored`);
  }
});

test('a service without any option has none (its spec hash is what it was before options existed)', () => {
  assert.equal(svc('image: nginx').options, undefined);
  const p = load('services:\n  web:\n    image: nginx\n').project;
  assert.equal(containerTemplate(p, p.services['web']!).options, undefined);
  assert.equal(containerTemplate(p, p.services['web']!).init, true);
});

test('short and long forms normalize to one shape', () => {
  const o = svc(
    [
      'image: nginx',
      'dns: 1.1.1.1',
      'dns_search: [a.test, b.test]',
      'tmpfs: /run',
      'ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } }',
      'sysctls: ["net.core.somaxconn=1024"]',
      'devices: ["/dev/fuse", "/dev/sda:/dev/xvda:r", { source: /dev/null, permissions: rw }]',
      'extra_hosts: { "a.test": 10.1.1.1, "b.test": ["::1", "[::2]"] }',
      'cap_add: [NET_ADMIN, NET_ADMIN]',
      'shm_size: 1g',
      'memswap_limit: -1',
      'cpu_rt_runtime: 400ms',
      'cpu_period: 100000',
      'gpus: all',
      'ipc: "container:db"',
    ].join('\n'),
  ).options;
  assert.deepEqual(o?.dns, ['1.1.1.1']);
  assert.deepEqual(o?.dnsSearch, ['a.test', 'b.test']);
  assert.deepEqual(o?.tmpfs, { '/run': '' });
  assert.deepEqual(o?.ulimits, { nproc: { soft: 65535, hard: 65535 }, nofile: { soft: 20000, hard: 40000 } });
  assert.deepEqual(o?.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(o?.devices, [
    { source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' },
    { source: '/dev/sda', target: '/dev/xvda', permissions: 'r' },
    { source: '/dev/null', target: '/dev/null', permissions: 'rw' },
  ]);
  assert.deepEqual(o?.extraHosts, [
    { host: 'a.test', ip: '10.1.1.1' },
    { host: 'b.test', ip: '::1' },
    { host: 'b.test', ip: '::2' },
  ]);
  assert.deepEqual(o?.capAdd, ['NET_ADMIN']);
  assert.equal(o?.shmSizeBytes, 1024 ** 3);
  assert.equal(o?.resources?.memorySwapBytes, -1);
  assert.equal(o?.resources?.cpuRtRuntimeUs, 400_000);
  assert.equal(o?.resources?.cpuPeriodUs, 100_000);
  assert.deepEqual(o?.resources?.gpus, [{ count: -1, capabilities: [['gpu']] }]);
  assert.equal(o?.ipc, 'container:db');
});

test('deploy.resources fills the same limits; a disagreement with mem_limit is an error', () => {
  const o = svc('image: nginx\ndeploy:\n  resources:\n    limits: { cpus: "1.5", memory: 1g, pids: 10 }\n    reservations: { memory: 100m }').options;
  assert.deepEqual(o?.resources, { nanoCpus: 1_500_000_000, memoryBytes: 1024 ** 3, pidsLimit: 10, memoryReservationBytes: 100 * 1024 ** 2 });
  assert.equal(svc('image: nginx\nmem_limit: 1g\ndeploy: { resources: { limits: { memory: 1024m } } }').options?.resources?.memoryBytes, 1024 ** 3);
  const e = err('image: nginx\nmem_limit: 1g\ndeploy: { resources: { limits: { memory: 2g } } }');
  assert.match(e.issues[0]?.message ?? '', /disagree on memoryBytes/);
});

test('bad values fail at their position with a hint', () => {
  const cases: [string, RegExp, string][] = [
    ['container_name: "-bad"', /invalid container name/, '4:21 services.web.container_name'],
    ['ulimits: { nofile: { soft: 10, hard: 5 } }', /soft \(10\) is above hard \(5\)/, '4:24 services.web.ulimits.nofile'],
    ['ulimits: { nofile: { soft: 10 } }', /needs both soft and hard/, '4:24 services.web.ulimits.nofile'],
    ['devices: ["/dev/a:/dev/b:xyz"]', /invalid device/, '4:15 services.web.devices[0]'],
    ['extra_hosts: ["nohost"]', /invalid extra host/, '4:19 services.web.extra_hosts[0]'],
    ['tmpfs: ["relative"]', /not an absolute path/, '4:13 services.web.tmpfs[0]'],
    ['pid: "service:"', /invalid mode/, '4:10 services.web.pid'],
    ['cgroup: shared', /invalid value "shared"/, '4:13 services.web.cgroup'],
    ['shm_size: lots', /expected a size/, '4:15 services.web.shm_size'],
    ['mem_swappiness: 101', /out of range/, '4:21 services.web.mem_swappiness'],
    ['oom_score_adj: -1001', /out of range/, '4:20 services.web.oom_score_adj'],
  ];
  for (const [line, message, at] of cases) {
    const e = err(`image: nginx\n${line}`);
    assert.match(e.issues[0]?.message ?? '', message, line);
    assert.deepEqual(where(e).slice(0, 1), [at], line);
    assert.ok(e.issues[0]?.hint, `${line}: has a hint`);
  }
});

test('container_name with replicas > 1 is an error naming the service', () => {
  const e = err('image: nginx\ncontainer_name: one\ndeploy: { replicas: 2 }');
  assert.match(e.issues[0]?.message ?? '', /service "web" sets container_name but runs 2 replicas/);
});

test('create body: options land in Config and HostConfig; cmesh keeps its own restart policy and port bindings', () => {
  const p = load(
    [
      'services:',
      '  db:',
      '    image: postgres',
      '    container_name: the-db',
      '  web:',
      '    image: nginx',
      '    hostname: h',
      '    init: false',
      '    ipc: "service:db"',
      '    cap_add: [SYS_PTRACE]',
      '    extra_hosts: ["gw:host-gateway"]',
      '    ulimits: { nofile: 10 }',
      '    logging: { driver: local, options: { max-size: 5m } }',
      '    ports: ["8080:80"]',
      '    mem_limit: 10m',
      '    restart: always',
      '',
    ].join('\n'),
  ).project;
  const body = createOptions(createSpec(p, p.services['web']!, 1, 'h'));
  assert.equal(body.Hostname, 'h');
  assert.equal(body.HostConfig?.Init, false);
  assert.equal(body.HostConfig?.IpcMode, 'container:the-db');
  assert.deepEqual(body.HostConfig?.CapAdd, ['SYS_PTRACE']);
  assert.deepEqual(body.HostConfig?.ExtraHosts, ['gw:host-gateway']);
  assert.deepEqual(body.HostConfig?.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 10 }]);
  assert.deepEqual(body.HostConfig?.LogConfig, { Type: 'local', Config: { 'max-size': '5m' } });
  assert.equal(body.HostConfig?.Memory, 10 * 1024 ** 2);
  assert.deepEqual(body.HostConfig?.RestartPolicy, { Name: 'no' });
  assert.deepEqual(body.HostConfig?.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  const db = createSpec(p, p.services['db']!, 1, 'h');
  assert.equal(db.name, 'the-db');
  assert.equal(db.labels['dev.cmesh.container-name'], 'the-db');
});

test('network_mode: no project network, no ports; service:<name> joins its first replica and depends on it', () => {
  const p = load(
    [
      'services:',
      '  vpn:',
      '    image: vpn',
      '  app:',
      '    image: app',
      '    network_mode: "service:vpn"',
      '    ipc: "service:vpn"',
      '  tool:',
      '    image: tool',
      '    network_mode: none',
      '',
    ].join('\n'),
  ).project;
  const app = p.services['app']!;
  assert.deepEqual(app.networks, {});
  assert.deepEqual(app.dependsOn['vpn'], { condition: 'service_started', restart: false, required: true });
  const body = createOptions(createSpec(p, app, 1, 'h'));
  assert.equal(body.HostConfig?.NetworkMode, `container:${p.name}-vpn-1`);
  assert.equal(body.HostConfig?.IpcMode, `container:${p.name}-vpn-1`);
  assert.equal(body.NetworkingConfig, undefined);
  assert.equal(createOptions(createSpec(p, p.services['tool']!, 1, 'h')).HostConfig?.NetworkMode, 'none');
});

test('network_mode errors: with networks, with ports, its own service, unknown service, bad value', () => {
  const cases: [string, RegExp][] = [
    ['network_mode: host\nnetworks: [default]', /cannot be combined/],
    ['network_mode: host\nports: ["80:80"]', /cannot publish or expose ports/],
    ['network_mode: "service:web"', /cannot join its own network namespace/],
    ['network_mode: "service:ghost"', /depends on undefined service "ghost"/],
    ['network_mode: "weird mode"', /invalid network_mode/],
  ];
  for (const [line, message] of cases) {
    const e = err(`image: nginx\n${line}`);
    assert.ok(e.issues.some((i) => message.test(i.message)), `${line}: ${e.issues.map((i) => i.message).join('; ')}`);
  }
});
