// Network/volume options digests: set on create, compared on the next up, so a changed ipam or driver_opts is named.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DaemonEvent } from './api/events.ts';
import { resolveHome } from './api/home.ts';
import { Labels } from './api/labels.ts';
import { networkOptionsDigest, optionDrift } from './api/resource-options.ts';
import { startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { project, svc } from './reconcile/testing.ts';

const withIpam = (subnet: string) => ({ config: [{ subnet }] });

test('no options beyond the defaults: no digest (older networks compare equal); any option: a stable digest', () => {
  const base = { name: 'n', engineName: 'p_n', external: false, internal: false, labels: {} };
  assert.equal(networkOptionsDigest(base), undefined);
  const a = networkOptionsDigest({ ...base, ipam: withIpam('10.213.0.0/24') });
  assert.equal(a, networkOptionsDigest({ ...base, ipam: withIpam('10.213.0.0/24') }));
  assert.notEqual(a, networkOptionsDigest({ ...base, ipam: withIpam('10.213.1.0/24') }));
});

test('optionDrift names project networks/volumes whose engine object carries other options; missing ones are not drift', () => {
  const p = project('p', [svc('web')]);
  p.networks['default'] = { ...p.networks['default']!, ipam: withIpam('10.213.0.0/24') };
  p.volumes['v'] = { name: 'v', engineName: 'p_v', external: false, labels: {}, driverOpts: { type: 'tmpfs' } };
  const digest = networkOptionsDigest(p.networks['default']!)!;
  assert.deepEqual(optionDrift(p, [{ name: 'p_default', labels: { [Labels.options]: digest } }], []), []);
  assert.deepEqual(optionDrift(p, [{ name: 'p_default', labels: {} }], [{ name: 'p_v', labels: {} }]), [
    { kind: 'network', key: 'default', engineName: 'p_default' },
    { kind: 'volume', key: 'v', engineName: 'p_v' },
  ]);
});

test('up labels what it creates; a later up with another subnet warns, naming the network', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-drift-'));
  const engine = new FakeEngine();
  const daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000 });
  try {
    const p = project('drift', [svc('web')]);
    p.networks['default'] = { ...p.networks['default']!, ipam: withIpam('10.213.0.0/24') };
    await daemon.manager.up('drift', { project: p, services: [], build: 'auto', wait: false });
    const [net] = await engine.listNetworks({ [Labels.project]: 'drift' });
    assert.equal(net?.labels[Labels.options], networkOptionsDigest(p.networks['default']));
    const warnings = (): string[] => daemon.bus.recent(0, (e: DaemonEvent) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.message : ''));
    assert.deepEqual(warnings(), []);
    const changed = structuredClone(p);
    changed.networks['default'] = { ...changed.networks['default']!, ipam: withIpam('10.213.1.0/24') };
    await daemon.manager.up('drift', { project: changed, services: [], build: 'auto', wait: false });
    assert.equal(warnings().length, 1);
    assert.match(warnings()[0] ?? '', /network "drift_default" was created with other options than networks\.default now sets/);
  } finally {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
});
