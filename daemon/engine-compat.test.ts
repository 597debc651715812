// Engine API gaps: a key cmesh honours that the connected engine cannot apply is a named warning on `up`, not a
// silent drop (Engine 20.10, API 1.41, has no healthcheck start_interval).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { resolveHome } from './api/home.ts';
import { startDaemon } from './daemon.ts';
import { apiBelow, engineGaps } from './engine-compat.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { project, svc } from './reconcile/testing.ts';

const hc = (startIntervalMs?: number) => ({ test: ['CMD', 'true'], disable: false, ...(startIntervalMs === undefined ? {} : { startIntervalMs }) });

test('API versions compare per part', () => {
  assert.equal(apiBelow('1.41', '1.44'), true);
  assert.equal(apiBelow('1.44', '1.44'), false);
  assert.equal(apiBelow('1.100', '1.44'), false);
  assert.equal(apiBelow('2.0', '1.44'), false);
});

test('start_interval on an engine below API 1.44 is a gap; not on 1.44, not without it, not for unselected services', () => {
  const p = project('p', [svc('a', { healthcheck: hc(100) }), svc('b', { healthcheck: hc() }), svc('c', { healthcheck: hc(50) })]);
  assert.deepEqual(
    engineGaps(p, ['a', 'b'], '1.41').map((g) => `${g.service} ${g.key} ${g.needs}`),
    ['a healthcheck.start_interval 1.44'],
  );
  assert.deepEqual(engineGaps(p, ['a', 'b', 'c'], '1.44'), []);
});

test('up publishes the gap as a warning event naming the service, the key and both versions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-compat-'));
  const daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine: new FakeEngine(), version: 'test', resyncMs: 60_000 });
  try {
    const p = project('compat', [svc('web', { healthcheck: hc(100) })]);
    await daemon.manager.up('compat', { project: p, services: [], build: 'auto', wait: false });
    const warnings = daemon.bus.recent(0, (e: DaemonEvent) => e.type === 'warning');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.type === 'warning' ? warnings[0].message : '', /service "web": healthcheck\.start_interval needs Engine API 1\.44, this engine speaks 1\.41/);
  } finally {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('subpath, mac_address on a later network, gw_priority, interface_name and enable_ipv4: false are errors below their API', () => {
  const p = project('p', [
    svc('a', {
      volumes: [{ type: 'volume', source: 'v', target: '/v', readOnly: false, subpath: 'x' }],
      networks: {
        default: { aliases: [], macAddress: '02:42:ac:11:00:98', gwPriority: 1, interfaceName: 'eth3' },
        second: { aliases: [], macAddress: '02:42:ac:11:00:99' },
      },
    }),
  ]);
  p.networks['default'] = { name: 'default', engineName: 'p_default', external: false, internal: false, labels: {}, enableIpv4: false };
  p.networks['second'] = { name: 'second', engineName: 'p_second', external: false, internal: false, labels: {} };
  const gaps = engineGaps(p, ['a'], '1.41');
  assert.deepEqual(
    gaps.map((g) => `${g.severity} ${g.key} ${g.needs}`),
    [
      'error volumes[0].volume.subpath 1.45',
      'error networks.second.mac_address 1.44',
      'error networks.default.gw_priority 1.48',
      'error networks.default.interface_name 1.49',
      'error networks.default.enable_ipv4 (top-level) 1.48',
    ],
  );
  assert.deepEqual(engineGaps(p, ['a'], '1.49'), []);
  assert.deepEqual(engineGaps(p, ['a'], '1.45').map((g) => g.key), ['networks.default.gw_priority', 'networks.default.interface_name', 'networks.default.enable_ipv4 (top-level)']);
});

test('up refuses a key the engine would drop, naming it and both versions, before creating anything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-compat-'));
  const engine = new FakeEngine();
  const daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000 });
  try {
    const p = project('compat2', [svc('web', { volumes: [{ type: 'volume', source: 'v', target: '/v', readOnly: false, subpath: 'x' }] })]);
    await assert.rejects(daemon.manager.up('compat2', { project: p, services: [], build: 'auto', wait: false }), (err: unknown) => {
      assert.ok(err instanceof CmeshError);
      assert.equal(err.code, 'CMESH_E_ENGINE_UNSUPPORTED');
      assert.match(err.message, /service "web": volumes\[0\]\.volume\.subpath needs Engine API 1\.45, this engine speaks 1\.41/);
      assert.match(err.hint ?? '', /without `subpath`/);
      assert.equal(err.issues[0]?.path, 'services.web.volumes[0].volume.subpath');
      return true;
    });
    assert.deepEqual(await engine.listContainers({ labels: {}, all: true }), []);
    assert.deepEqual(await engine.listVolumes({}), []);
  } finally {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a MAC address on the first network is no gap: it goes into the container config, which API 1.41 honours', () => {
  const p = project('p', [svc('a', { networks: { default: { aliases: [], macAddress: '02:42:ac:11:00:98' } } })]);
  assert.deepEqual(engineGaps(p, ['a'], '1.41'), []);
});

test('annotations need API 1.43: an error below, nothing at or above', () => {
  const p = project('p', [svc('a', { options: { annotations: { k: 'v' } } })]);
  assert.deepEqual(engineGaps(p, ['a'], '1.41').map((g) => `${g.severity} ${g.key} ${g.needs}`), ['error annotations 1.43']);
  assert.deepEqual(engineGaps(p, ['a'], '1.43'), []);
});

test('bind recursive: writable/readonly need API 1.44; a recursive bind that may create its path needs 1.42', () => {
  const bind = (recursive: 'disabled' | 'readonly', createHostPath: boolean) => ({ type: 'bind' as const, source: '/h', target: '/c', readOnly: true, createHostPath, recursive });
  const p = project('p', [svc('a', { volumes: [bind('readonly', false), bind('disabled', true), bind('disabled', false)] })]);
  assert.deepEqual(engineGaps(p, ['a'], '1.41').map((g) => `${g.key} ${g.needs}`), ['volumes[0].bind.recursive 1.44', 'volumes[1].bind.recursive (with create_host_path) 1.42']);
  assert.deepEqual(engineGaps(p, ['a'], '1.42').map((g) => g.key), ['volumes[0].bind.recursive']);
  assert.deepEqual(engineGaps(p, ['a'], '1.44'), []);
});
