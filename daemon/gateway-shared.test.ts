// The daemon's shared east-west gateway (issue #15), through the real EastWestRuntime, ProjectReconciler and executor on
// the fake engine: two meshed projects join one container (each with its own names, on its own network) and make none
// of their own; each project's table names the shared container's address on that project's network; `down` only
// leaves the project's networks; the daemon's close removes it once no project is on it. A daemon out of shared mode
// takes projects off one it finds.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { DesiredProject } from './api/desired.ts';
import { GATEWAY_SOCKET_FILE, gatewayName } from './api/east-west.ts';
import type { ContainerInfo } from './api/engine.ts';
import type { GatewayTable } from './api/gateway-control.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { SHARED_GATEWAY_LABEL, SharedGateway, sharedGatewayName } from './gateway-shared.ts';
import { controlConnection, gatewayTestHome } from './gateway-test-kit.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { ProjectReconciler } from './reconcile/loop.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const BASE = 'cmesh-test/gateway-base:shared';
const dir = gatewayTestHome('cm-gwshared-', BASE);

const HTTP = { ...svc('defaults').mesh, protocol: 'http' as const, protocolExplicit: true };
const meshed = (name: string, generation = 1): DesiredProject =>
  desired(project(name, [svc('api', { expose: [3000], mesh: HTTP, replicas: 2 })], { eastWest: true }), { generation });

function engineWithImages(): FakeEngine {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage(BASE);
  engine.addImage('example/api:1');
  return engine;
}

/** A reconciler for `name` wired as the daemon wires it (project-mesh.ts): the context and the shared gateway's look. */
function loopFor(engine: FakeEngine, ew: EastWestRuntime, get: () => DesiredProject | undefined, signal: AbortSignal): ProjectReconciler {
  const name = get()!.project.name;
  return new ProjectReconciler({
    engine,
    name,
    getDesired: get,
    emit: () => {},
    signal,
    gatewayContext: (d) => ew.context(d),
    sharedGateway: () => ew.sharedNow(),
    onObserved: (containers) => {
      const d = get();
      if (d) ew.observed(d, containers);
    },
    execute: { pollMs: 5 },
  });
}

/** The tables the daemon sends a project's gateway, as that gateway's control connection reads them. */
async function tablesOf(home: string, project: string): Promise<{ tables: () => GatewayTable[]; close: () => void }> {
  const c = await controlConnection(join(home, 'gw', project, GATEWAY_SOCKET_FILE));
  return { tables: () => c.lines.map((l) => JSON.parse(l) as GatewayTable), close: () => c.socket.destroy() };
}

/** A shared-mode EastWestRuntime on a fresh fake engine, and a signal for the test's loops; closed after the test. */
function sharedRuntime(t: TestContext, publishMs = 1000): { engine: FakeEngine; ew: EastWestRuntime; signal: AbortSignal } {
  const engine = engineWithImages();
  const ew = new EastWestRuntime({ home: dir.home, engine, rows: () => [], emit: () => {}, publishMs, shared: true });
  const abort = new AbortController();
  t.after(async () => {
    abort.abort();
    await ew.close();
  });
  return { engine, ew, signal: abort.signal };
}

const until = async (what: string, fn: () => boolean): Promise<void> => {
  const deadline = Date.now() + 3000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const sharedOf = (engine: FakeEngine): Promise<ContainerInfo[]> => engine.listContainers({ labels: { [SHARED_GATEWAY_LABEL]: true } });

test('two meshed projects join one shared gateway with their own names, make no gateway of their own, and leave it at down', async (t) => {
  const { engine, ew, signal } = sharedRuntime(t, 20);
  let a: DesiredProject | undefined = meshed('sha');
  const b = meshed('shb');
  const loopA = loopFor(engine, ew, () => a, signal);
  const loopB = loopFor(engine, ew, () => b, signal);

  await loopA.reconcileNow();
  await loopB.reconcileNow();
  const [shared, ...more] = await sharedOf(engine);
  assert.ok(shared, 'a shared gateway');
  assert.equal(more.length, 0, 'only one');
  assert.equal(shared.name, sharedGatewayName(dir.home));
  assert.equal(engine.callsOf('createContainer').filter((c) => (c.args[0] as { name: string }).name === shared.name).length, 1, 'created once');
  for (const p of ['sha', 'shb']) assert.equal(engine.container(gatewayName(p)), undefined, `${p} has no gateway container of its own`);
  const inspected = await engine.inspectContainer(shared.id);
  assert.equal(inspected?.state, 'running');
  assert.deepEqual(
    inspected?.networks?.map(({ address: _, ...n }) => n),
    [
      { name: 'sha_default', aliases: ['api'] },
      { name: 'shb_default', aliases: ['api'] },
    ],
    'on each project network, with that project names only (not on the default bridge)',
  );
  const spec = engine.callsOf('createContainer').find((c) => (c.args[0] as { name: string }).name === shared.name)!.args[0] as {
    env: Record<string, string>;
    mounts: { source: string; target: string }[];
  };
  assert.equal(spec.env['CMESH_GATEWAY_SHARED'], '1');
  assert.deepEqual(spec.mounts.map((m) => [m.source, m.target]), [[join(dir.home, 'gw'), '/run/cmesh']], 'every project socket directory, mounted whole');

  // Each project's table names the shared gateway's address on that project's network, and only that one.
  const addressOn = (network: string): string => inspected!.networks!.find((n) => n.name === network)!.address!;
  const readerA = await tablesOf(dir.home, 'sha');
  t.after(() => readerA.close());
  await until('a table naming the shared address', () => readerA.tables().some((x) => x.shared !== undefined));
  assert.deepEqual(readerA.tables().at(-1)?.shared, { addresses: [addressOn('sha_default')] });

  // Converged: nothing to do on either.
  assert.equal((await loopA.reconcileNow()).actions, 0);
  assert.equal((await loopB.reconcileNow()).actions, 0);

  // down of one project: the shared gateway leaves its network only (the network can go), and stays for the other.
  a = undefined;
  engine.clearCalls();
  await loopA.down({ volumes: false, removeOrphans: false });
  await ew.unpublish('sha');
  assert.deepEqual(engine.callsOf('disconnectNetwork').map((c) => c.args), [[shared.id, 'sha_default']]);
  assert.equal(engine.callsOf('removeContainer').filter((c) => c.args[0] === shared.id).length, 0, 'the shared gateway is not the project’s to remove');
  assert.equal(engine.callsOf('removeContainer').length, 2, 'its two replicas are');
  assert.equal((await engine.inspectNetwork('sha_default')) ?? 'gone', 'gone');
  assert.deepEqual((await engine.inspectContainer(shared.id))?.networks?.map((n) => n.name), ['shb_default']);

  // The daemon's close keeps it while a project is on it.
  await ew.close();
  assert.equal((await engine.inspectContainer(shared.id))?.state, 'running');
});

test('a shared gateway no project is on goes with the daemon; one that stopped or went away is back after the next pass', async (t) => {
  const engine = engineWithImages();
  const ew = new EastWestRuntime({ home: dir.home, engine, rows: () => [], emit: () => {}, publishMs: 1000, shared: true });
  const abort = new AbortController();
  t.after(() => abort.abort());
  let d: DesiredProject | undefined = meshed('shc');
  const loop = loopFor(engine, ew, () => d, abort.signal);
  await loop.reconcileNow();
  const [first] = await sharedOf(engine);
  assert.ok(first);

  // Stopped (a crash): the very next pass starts it again, the same container on the same networks.
  engine.simulateExit(first.id, 137);
  await loop.reconcileNow();
  assert.equal((await engine.inspectContainer(first.id))?.state, 'running', 'started again by one pass');

  // Removed by hand: the next pass makes it again and joins it.
  await engine.removeContainer(first.id, { force: true });
  await loop.reconcileNow();
  const [second] = await sharedOf(engine);
  assert.ok(second && second.id !== first.id, 'made again');
  assert.deepEqual((await engine.inspectContainer(second.id))?.networks?.map((n) => n.name), ['shc_default']);

  d = undefined;
  await loop.down({ volumes: false, removeOrphans: false });
  await ew.unpublish('shc');
  await ew.close();
  assert.deepEqual(await sharedOf(engine), [], 'removed with the daemon once no project is on it');
});

test('a daemon out of shared mode takes its projects off a shared gateway it finds, and makes gateways of their own', async (t) => {
  const engine = engineWithImages();
  const abort = new AbortController();
  t.after(() => abort.abort());
  const d = meshed('shd');
  // A shared-mode daemon first…
  const before = new EastWestRuntime({ home: dir.home, engine, rows: () => [], emit: () => {}, publishMs: 1000, shared: true });
  await loopFor(engine, before, () => d, abort.signal).reconcileNow();
  await before.close();
  const [shared] = await sharedOf(engine);
  assert.ok(shared, 'kept: a project is on it');

  // …then one without: the project gets its own gateway, and leaves the shared one once its replicas are done.
  const after = new EastWestRuntime({ home: dir.home, engine, rows: () => [], emit: () => {}, publishMs: 1000 });
  t.after(() => after.close());
  engine.clearCalls();
  const loop = loopFor(engine, after, () => d, abort.signal);
  await loop.reconcileNow();
  assert.ok(engine.container(gatewayName('shd')), 'a gateway of its own');
  assert.deepEqual(engine.callsOf('disconnectNetwork').map((c) => c.args), [[shared.id, 'shd_default']]);
  assert.equal((await loop.reconcileNow()).actions, 0, 'converged');
  await after.close();
  assert.deepEqual(await sharedOf(engine), [], 'no project on it: removed with the daemon');
});

test('names changed on the shared gateway move to a gateway of the project’s own, which the project then keeps', async (t) => {
  const { engine, ew, signal } = sharedRuntime(t);
  let d = meshed('she');
  const loop = loopFor(engine, ew, () => d, signal);
  await loop.reconcileNow();
  const [shared] = await sharedOf(engine);
  assert.ok(shared);

  // An alias more for api: the engine cannot change the shared endpoint's names, so the project's own gateway takes
  // them (made before, the shared one leaves after), instead of a leave and a join that would refuse callers between.
  const api = d.project.services['api']!;
  d = desired(project('she', [{ ...api, networks: { default: { aliases: ['api.alias'] } } }], { eastWest: true }), { generation: 2 });
  engine.clearCalls();
  await loop.reconcileNow();
  const own = engine.container(gatewayName('she'));
  assert.ok(own, 'a gateway of its own');
  assert.deepEqual((await engine.inspectContainer(own.id))?.networks?.map(({ address: _, ...n }) => n), [{ name: 'she_default', aliases: ['api', 'api.alias'] }]);
  assert.deepEqual(engine.callsOf('disconnectNetwork').map((c) => c.args), [[shared.id, 'she_default']]);
  assert.deepEqual(engine.callsOf('connectNetwork').map((c) => c.args), [], 'the shared one is not joined again');
  const order = engine.calls.map((c) => c.method).filter((m) => m === 'createContainer' || m === 'disconnectNetwork');
  assert.deepEqual(order, ['createContainer', 'disconnectNetwork'], 'made before the shared one leaves');
  // Kept: a project with a first gateway of its own does not go back to the shared one.
  assert.equal((await loop.reconcileNow()).actions, 0);
});

test('names on an external network go to a gateway of the project’s own; the shared gateway never leaves an external network', async (t) => {
  const { engine, ew, signal } = sharedRuntime(t);
  // Another project joined the shared gateway to an external network (its names there).
  const a = meshed('shf');
  await loopFor(engine, ew, () => a, signal).reconcileNow();
  const [shared] = await sharedOf(engine);
  assert.ok(shared);
  await engine.createNetwork({ name: 'outside', labels: {} });
  await engine.connectNetwork(shared.id, 'outside', ['other']);

  // This project's api is on that external network too.
  const api = a.project.services['api']!;
  const networks = {
    default: { name: 'default', engineName: 'shg_default', external: false, internal: false, labels: {} },
    outside: { name: 'outside', engineName: 'outside', external: true, internal: false, labels: {} },
  };
  let b: DesiredProject | undefined = desired(
    project('shg', [{ ...api, networks: { default: { aliases: [] }, outside: { aliases: [] } } }], { eastWest: true, networks }),
  );
  engine.clearCalls();
  const loop = loopFor(engine, ew, () => b, signal);
  await loop.reconcileNow();
  const own = engine.container(gatewayName('shg'));
  assert.ok(own, 'a gateway of its own');
  assert.deepEqual(
    (await engine.inspectContainer(own.id))?.networks?.map(({ address: _, ...n }) => n),
    [
      { name: 'outside', aliases: ['api'] },
      { name: 'shg_default', aliases: ['api'] },
    ],
  );
  assert.deepEqual(engine.callsOf('disconnectNetwork').map((c) => c.args), [], 'the shared gateway left nothing');
  assert.deepEqual(engine.callsOf('connectNetwork').map((c) => c.args[0]).filter((id) => id === shared.id), [], 'nor joined anything');
  b = undefined;
  await loop.down({ volumes: false, removeOrphans: false });
  assert.deepEqual(engine.callsOf('disconnectNetwork').map((c) => c.args), [], 'not at down either');
  assert.deepEqual((await engine.inspectContainer(shared.id))?.networks?.map((n) => n.name), ['outside', 'shf_default']);
});

test('lookers at the same time share one inspection of the shared gateway; one after a change of its own gets a new one', async () => {
  const engine = engineWithImages();
  const gw = new SharedGateway({ engine, home: dir.home, root: join(dir.home, 'gw'), on: true });
  engine.clearCalls();
  await Promise.all([gw.now(), gw.now()]);
  assert.equal(engine.callsOf('inspectContainer').length, 1);
  await Promise.all([gw.now(), gw.now('changed')]);
  assert.equal(engine.callsOf('inspectContainer').length, 3);
});

test('a project with east-west off stops looking at the shared gateway once it is off the project’s networks', async (t) => {
  const { engine, ew, signal } = sharedRuntime(t);
  let d: DesiredProject = meshed('shi');
  const loop = loopFor(engine, ew, () => d, signal);
  await loop.reconcileNow();
  const [shared] = await sharedOf(engine);
  assert.ok(shared);
  const looks = () => engine.callsOf('inspectContainer').filter((c) => c.args[0] === shared.id || c.args[0] === shared.name).length;
  const passes = async (n: number): Promise<number> => {
    const before = looks();
    for (let i = 0; i < n; i += 1) await loop.reconcileNow();
    return looks() - before;
  };
  // Straight after the pass that joined (it looked before the join, so saw it off the networks).
  d = desired({ ...d.project, eastWest: false }, { generation: 2 });
  assert.ok((await passes(1)) >= 1, 'the pass that turns east-west off looks, and leaves');
  assert.deepEqual((await engine.inspectContainer(shared.id))?.networks?.map((n) => n.name) ?? [], []);
  assert.ok((await passes(1)) >= 1, 'the next one sees it off the project’s networks');
  assert.equal(await passes(3), 0, 'later passes do not look');
  d = desired({ ...d.project, eastWest: true }, { generation: 3 });
  assert.ok((await passes(1)) >= 1, 'meshed again: it looks, and joins');
  assert.ok((await passes(2)) >= 2, 'meshed: every pass looks');
  assert.deepEqual((await engine.inspectContainer(shared.id))?.networks?.map((n) => n.name), ['shi_default']);
});
