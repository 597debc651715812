// Start-first gateway replacement on the fake engine, for every reason that used to recreate a gateway stop-first:
// the new gateway serves before the old one drains, leaves its networks and goes; one that never serves is removed
// and the old one kept; what a daemon that died mid-way left behind converges to one gateway.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DesiredProject } from '../api/desired.ts';
import { isCmeshError } from '../api/errors.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { ServiceSpec } from '../api/project.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { execute } from './execute.ts';
import { observe } from './observe.ts';
import { plan } from './plan.ts';
import type { GatewayContext, GatewayRolloutHooks, Plan } from './plan-types.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { desired, project, svc } from './testing.ts';

const MESH = svc('x').mesh;
const HTTP = { ...MESH, protocol: 'http' as const, protocolExplicit: true };
// The fake engine checks a bind mount's source exists, as the real one does.
const home = mkdtempSync(join(tmpdir(), 'cmesh-gwroll-'));
after(() => rmSync(home, { recursive: true, force: true }));
for (const d of ['gw', 'other']) mkdirSync(join(home, d));
const gw: GatewayContext = { image: 'cmesh/gateway:aaaaaaaaaaaa', identity: 'init:rt:one', socketDir: join(home, 'gw') };
const web = svc('web', { replicas: 2, expose: [3000], mesh: HTTP });
const api = svc('api', { expose: [3000], mesh: HTTP });
const at = (services: ServiceSpec[]): DesiredProject => desired(project('gr', services, { eastWest: true }));
const base = at([web, api]);

/** Each case: what changes, and the reason the plan gives (formerly all stop-first). */
const reasons: { name: string; to: DesiredProject; ctx?: GatewayContext; reason: RegExp }[] = [
  { name: 'image identity', to: base, ctx: { ...gw, image: 'cmesh/gateway:bbbbbbbbbbbb', identity: 'init:rt:two' }, reason: /^image changed/ },
  { name: 'base spec', to: base, ctx: { ...gw, socketDir: join(home, 'other') }, reason: /^spec changed/ },
  { name: 'a compose alias', to: at([{ ...web, networks: { default: { aliases: ['www'] } } }, api]), reason: /^names of web changed/ },
  { name: 'a service leaving it', to: at([web, { ...api, mesh: { ...HTTP, eastWest: false } }]), reason: /^api no longer on it/ },
];

async function planFor(engine: FakeEngine, d: DesiredProject, ctx = gw, failedRollouts: Record<string, string> = {}): Promise<Plan> {
  const observed = await observe(engine, d.project.name, Object.keys(d.project.services));
  return plan(d, observed, { now: engine.now(), supervisor: EMPTY_VIEW, gateway: ctx, failedRollouts });
}

/** The hub's side, logged; `serves` decides whether the new gateway ever reports serving. */
function hub(log: string[], serves = true): GatewayRolloutHooks {
  return {
    waitServing: async (host, services) => {
      log.push(`serving? ${host} ${[...services].sort().join(',')}`);
      return serves;
    },
    drain: async (host) => {
      log.push(`drain ${host}`);
    },
    retire: async (host) => {
      log.push(`retire ${host}`);
    },
    forget: (host) => log.push(`forget ${host}`),
  };
}

async function gateways(engine: FakeEngine) {
  const all = await engine.listContainers({ labels: { 'dev.cmesh.project': 'gr', 'dev.cmesh.role': 'gateway' }, all: true });
  return all.map((c) => ({ id: c.id, name: c.name, state: c.state, hash: c.labels['dev.cmesh.spec-hash'] }));
}

const gatewayActions = (p: Plan) => p.stages.flatMap((s) => s.actions).filter((a) => 'target' in a && a.target.service === 'cmesh:gateway');

for (const r of reasons) {
  test(`${r.name}: the new gateway serves before the old one drains, leaves its networks and goes; it takes the name`, async () => {
    const engine = new FakeEngine();
    await execute(await planFor(engine, base), engine, () => {});
    const [old] = await gateways(engine);
    const p = await planFor(engine, r.to, r.ctx ?? gw);
    const [recreate] = gatewayActions(p);
    assert.ok(recreate?.kind === 'recreate' && recreate.strategy === 'start-first', JSON.stringify(recreate));
    assert.match(recreate.reason, r.reason);
    const log: string[] = [];
    const events: DaemonEvent[] = [];
    const from = engine.calls.length;
    await execute(p, engine, (e) => events.push(e), { gatewayRollout: hub(log) });
    const after = await gateways(engine);
    assert.equal(after.length, 1, JSON.stringify(after));
    assert.equal(after[0]!.name, 'gr-cmesh-gateway');
    assert.notEqual(after[0]!.id, old!.id);
    assert.equal(after[0]!.state, 'running');
    const newHost = after[0]!.id.slice(0, 12);
    const served = r.name === 'a service leaving it' ? 'web' : 'api,web';
    const was = old!.id.slice(0, 12);
    assert.deepEqual(log, [`serving? ${newHost} ${served}`, `drain ${was}`, `retire ${was}`, `forget ${was}`]);
    // Engine order: the new one created and started, the old one out of DNS (disconnect) before it is removed, then the rename.
    const subject = (arg: unknown) => (typeof arg === 'object' && arg !== null && 'name' in arg ? String(arg.name) : String(arg));
    const calls = engine.calls.slice(from).map((c) => `${c.method} ${subject(c.args[0])}`);
    const first = (prefix: string) => calls.findIndex((c) => c.startsWith(prefix));
    assert.ok(first('createContainer') < first('disconnectNetwork'), calls.join('\n'));
    assert.ok(first('disconnectNetwork') < first(`removeContainer ${old!.id}`), calls.join('\n'));
    assert.ok(first(`removeContainer ${old!.id}`) < first('renameContainer'), calls.join('\n'));
    const phases = events.flatMap((e) => (e.type === 'rollout' && e.service === 'cmesh:gateway' ? [e.phase] : []));
    assert.deepEqual(phases, ['start', 'progress', 'done']);
    assert.deepEqual(gatewayActions(await planFor(engine, r.to, r.ctx ?? gw)), [], 'converged');
  });
}

test('a new gateway that never serves is removed; the old one serves on and the plan says why instead of retrying', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, base), engine, () => {});
  const before = await gateways(engine);
  const to = reasons[2]!.to;
  const failed: Record<string, string> = {};
  const events: DaemonEvent[] = [];
  await assert.rejects(
    execute(await planFor(engine, to), engine, (e) => events.push(e), {
      gatewayRollout: hub([], false),
      onRolledBack: (key, hash) => {
        failed[key] = hash;
      },
    }),
    (e: unknown) => isCmeshError(e) && /CMESH_E_ROLLOUT_FAILED/.test(JSON.stringify(e)),
  );
  assert.deepEqual(await gateways(engine), before, 'the old gateway is untouched, nothing orphaned');
  assert.ok(events.some((e) => e.type === 'rollout' && e.phase === 'rolled-back'));
  assert.deepEqual(Object.keys(failed), ['cmesh:gateway#0']);
  const again = await planFor(engine, to, gw, failed);
  assert.deepEqual(gatewayActions(again), []);
  assert.ok(again.notes.some((n) => n.includes('did not serve')), again.notes.join('\n'));
});

/** What a daemon that died mid-way leaves: the new gateway running under its temporary name. */
async function interrupted(engine: FakeEngine, to: DesiredProject): Promise<void> {
  const p = await planFor(engine, to);
  const [recreate] = gatewayActions(p);
  assert.ok(recreate?.kind === 'recreate' && recreate.replacement);
  const { id } = await engine.createContainer({ ...recreate.spec, name: recreate.replacement.next });
  await engine.startContainer(id);
}

test('after a crash with both gateways up: the pending one is adopted (gated, old drained and removed), never remade', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, base), engine, () => {});
  const to = reasons[2]!.to;
  await interrupted(engine, to);
  const pending = (await gateways(engine)).find((g) => g.name.endsWith('-next'))!;
  const p = await planFor(engine, to);
  const [recreate] = gatewayActions(p);
  assert.ok(recreate?.kind === 'recreate' && recreate.replacement?.adopt?.id === pending.id);
  await execute(p, engine, () => {}, { gatewayRollout: hub([]) });
  assert.deepEqual((await gateways(engine)).map((g) => [g.id, g.name]), [[pending.id, 'gr-cmesh-gateway']]);
});

test('after a crash once nothing needs to change: the pending gateway is removed and the old one kept', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, base), engine, () => {});
  const [old] = await gateways(engine);
  await interrupted(engine, reasons[2]!.to);
  await execute(await planFor(engine, base), engine, () => {});
  assert.deepEqual((await gateways(engine)).map((g) => g.id), [old!.id]);
});

test('after a crash between removing the old gateway and the rename: the pending one takes the name', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, base), engine, () => {});
  const [old] = await gateways(engine);
  const to = reasons[2]!.to;
  await interrupted(engine, to);
  await engine.removeContainer(old!.id, { force: true });
  const pending = (await gateways(engine))[0]!;
  await execute(await planFor(engine, to), engine, () => {});
  assert.deepEqual((await gateways(engine)).map((g) => [g.id, g.name, g.state]), [[pending.id, 'gr-cmesh-gateway', 'running']]);
  assert.deepEqual(gatewayActions(await planFor(engine, to)), [], 'converged');
});

test('a gateway that is not running is recreated stop-first (nothing serves its names), and the plan says why', async () => {
  const engine = new FakeEngine();
  await execute(await planFor(engine, base), engine, () => {});
  const [old] = await gateways(engine);
  await engine.stopContainer(old!.id, 0);
  const [recreate] = gatewayActions(await planFor(engine, reasons[2]!.to));
  assert.ok(recreate?.kind === 'recreate' && recreate.strategy === 'stop-first');
  assert.match(recreate.reason, /stop-first: it is exited/);
});
