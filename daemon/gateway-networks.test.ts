// A network added to and dropped from a meshed project, through the daemon's real EastWestRuntime, ProjectReconciler
// and executor on the fake engine: the running gateway is connected (with the meshed service's names there) and
// disconnected, never recreated; observe reads its endpoints' aliases by inspect and the next pass has nothing to do.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesiredProject } from './api/desired.ts';
import { gatewayName } from './api/east-west.ts';
import type { ProjectSpec } from './api/project.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { gatewayTestHome } from './gateway-test-kit.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { ProjectReconciler } from './reconcile/loop.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const BASE = 'cmesh-test/gateway-base:nets';
const dir = gatewayTestHome('cm-gwnets-', BASE);

const HTTP = { ...svc('defaults').mesh, protocol: 'http' as const, protocolExplicit: true };
const net = (name: string): ProjectSpec['networks'][string] => ({ name, engineName: `gwnets_${name}`, external: false, internal: false, labels: {} });
const api = svc('api', { expose: [3000], mesh: HTTP, replicas: 2 });
const base = desired(project('gwnets', [api], { eastWest: true }));
const withBack = desired(
  project('gwnets', [{ ...api, networks: { default: { aliases: [] }, back: { aliases: ['api.back'] } } }], {
    eastWest: true,
    networks: { default: net('default'), back: net('back') },
  }),
  { generation: 2 },
);

test('a network added is joined and a network dropped is left by the running gateway, which is never recreated', async (t) => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage(BASE);
  engine.addImage('example/api:1');
  let d: DesiredProject = base;
  const ew = new EastWestRuntime({ home: dir.home, engine, rows: () => [], emit: () => {}, publishMs: 1000 });
  const abort = new AbortController();
  const loop = new ProjectReconciler({
    engine,
    name: 'gwnets',
    getDesired: () => d,
    emit: () => {},
    signal: abort.signal,
    gatewayContext: (now) => ew.context(now),
    execute: { pollMs: 5 },
  });
  t.after(async () => {
    abort.abort();
    await ew.close();
  });
  const gateway = async () => {
    const c = await engine.inspectContainer(engine.container(gatewayName('gwnets'))!.id);
    // Names and aliases: its address on each network is the engine's.
    return c && { ...c, networks: c.networks?.map(({ address: _, ...n }) => n) };
  };

  await loop.reconcileNow();
  const first = await gateway();
  assert.deepEqual(first?.networks, [{ name: 'gwnets_default', aliases: ['api'] }]);

  d = withBack;
  engine.clearCalls();
  await loop.reconcileNow();
  assert.deepEqual(engine.callsOf('connectNetwork').map((c) => c.args), [[first!.id, 'gwnets_back', ['api', 'api.back']]]);
  assert.equal((await gateway())?.id, first!.id, 'the same gateway container');
  assert.deepEqual((await gateway())?.networks, [
    { name: 'gwnets_back', aliases: ['api', 'api.back'] },
    { name: 'gwnets_default', aliases: ['api'] },
  ]);
  // Converged: its labels still say what it was made with, and nothing is left to do.
  assert.equal((await loop.reconcileNow()).actions, 0);

  d = { ...base, generation: 3 };
  engine.clearCalls();
  await loop.reconcileNow();
  assert.deepEqual(engine.callsOf('disconnectNetwork').map((c) => c.args), [[first!.id, 'gwnets_back']]);
  assert.deepEqual(engine.callsOf('removeContainer').map((c) => c.args[0]).includes(first!.id), false, 'never removed');
  assert.deepEqual((await gateway())?.networks, [{ name: 'gwnets_default', aliases: ['api'] }]);
  assert.equal((await loop.reconcileNow()).actions, 0);
});
