// Which action each change of a running gateway's networks gets: joined or left live, or recreated stop-first (and
// why), read from the engine's endpoints as inspect reports them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { ProjectSpec, ServiceSpec } from '../api/project.ts';
import { type GatewayContext, gatewaySpec, planGateway } from './plan-gateway.ts';
import { GATEWAY_IDENTITY_LABEL, gatewayHash } from './plan-gateway-live.ts';
import { project, svc } from './testing.ts';

const gw: GatewayContext = { image: 'cmesh/gateway:abc', socketDir: '/s' };
const net = (name: string): ProjectSpec['networks'][string] => ({ name, engineName: `p_${name}`, external: false, internal: false, labels: {} });
const api = svc('api', { expose: [3000] });
const db = svc('db', { expose: [5432] });
const on = (services: ServiceSpec[], nets = ['default']) =>
  project('p', services, { eastWest: true, networks: Object.fromEntries(nets.map((n) => [n, net(n)])) });
const withBack = on([{ ...api, networks: { default: { aliases: [] }, back: { aliases: ['api.back'] } } }, db], ['default', 'back']);

/** The running gateway `from` made, as inspect shows it (`networks` overrides its endpoints). */
function made(from: ProjectSpec, over: Partial<ContainerInfo> = {}): ContainerInfo {
  const want = gatewaySpec(from, gw)!;
  return {
    id: 'g',
    name: want.spec.name,
    image: gw.image,
    state: 'running',
    health: 'none',
    labels: { ...want.spec.labels },
    createdAt: 0,
    restartCount: 0,
    endpoints: [],
    networks: want.spec.networks.map((n) => ({ name: n.name, aliases: [...(n.aliases ?? [])] })),
    ...over,
  };
}

/** The labels an older cmesh wrote: no identity label. */
function withoutIdentity(labels: Record<string, string>): Record<string, string> {
  const { [GATEWAY_IDENTITY_LABEL]: _identity, ...rest } = labels;
  return rest;
}

const actionsOf = (p: ProjectSpec, c: ContainerInfo, ctx: GatewayContext = gw) => {
  const out = planGateway(p, [c], ctx, []);
  return [...out.before, ...out.concurrent, ...out.after].map((a) => {
    if (a.kind === 'connect') return `connect ${a.network} ${a.aliases.join(',')}`;
    if (a.kind === 'disconnect') return `disconnect ${a.network}`;
    return `${a.kind}${'reason' in a ? `: ${a.reason}` : ''}`;
  });
};

test('a network the project adds is joined live with the aliases of the services on it; one it drops is left', () => {
  assert.deepEqual(actionsOf(withBack, made(on([api, db]))), ['connect p_back api,api.back']);
  assert.deepEqual(actionsOf(on([api, db]), made(withBack)), ['disconnect p_back']);
  // A network no meshed service joins: the gateway is on every project network, with no names there.
  assert.deepEqual(actionsOf(on([api, db], ['default', 'side']), made(on([api, db]))), ['connect p_side ']);
  assert.deepEqual(actionsOf(withBack, made(withBack)), [], 'converged: nothing');
});

test('the live diff does not change the spec hash: the gateway stays converged after its live changes', () => {
  assert.equal(gatewaySpec(withBack, gw)!.hash, gatewaySpec(on([api, db]), gw)!.hash);
  // Joined back live: the labels are still the ones made for the default network alone.
  const joined = made(on([api, db]), { networks: made(withBack).networks! });
  assert.deepEqual(actionsOf(withBack, joined), []);
});

test('a name change on a network the gateway stays on is stop-first, with the service named', () => {
  // db joins `back`, where the gateway already is without db's name.
  const dbBack = on([{ ...api, networks: { default: { aliases: [] }, back: { aliases: ['api.back'] } } }, { ...db, networks: { back: { aliases: [] } } }], ['default', 'back']);
  assert.deepEqual(actionsOf(dbBack, made(withBack)), ['recreate: names of db changed (compose aliases, or the networks it joins)']);
  // api's alias on back renamed after the gateway joined back live (the digest label knows nothing of back).
  const renamed = on([{ ...api, networks: { default: { aliases: [] }, back: { aliases: ['api.b2'] } } }, db], ['default', 'back']);
  const joined = made(on([api, db]), { networks: made(withBack).networks! });
  assert.deepEqual(actionsOf(renamed, joined), ['recreate: names of api changed (compose aliases, or the networks it joins)']);
});

test('a name nobody in the project has any more is left on the gateway; one a service answers to elsewhere is not', () => {
  const stale = made(on([api, db]), { networks: [{ name: 'p_default', aliases: ['api', 'db', 'gone'] }] });
  assert.deepEqual(actionsOf(on([api, db]), stale), []);
  const taken = made(on([api, db]), { networks: [{ name: 'p_default', aliases: ['api', 'db', 'worker'] }] });
  const withWorker = on([api, db, svc('worker', { mesh: { ...api.mesh, eastWest: false } })]);
  assert.deepEqual(actionsOf(withWorker, taken), ['recreate: names of worker changed (compose aliases, or the networks it joins)']);
});

test('what a running container cannot take stays stop-first, ahead of any live change', () => {
  const before = gatewaySpec(on([api, db]), { ...gw, image: 'cmesh/gateway:old' })!.spec;
  const image = made(on([api, db]), { image: before.image, labels: before.labels });
  assert.match(actionsOf(withBack, image)[0]!, /^recreate: image changed/);
  const spec = made(on([api, db]), { labels: { ...made(on([api, db])).labels, [Labels.specHash]: 'other' } });
  assert.match(actionsOf(withBack, spec)[0]!, /^recreate: spec changed \(other: the socket directory/);
});

test("a gateway an older cmesh made (v2 hash over its networks) is kept across the upgrade, and recreated on a network change", () => {
  const older = made(on([api]));
  // The hash the previous cmesh wrote for this very project (pinned: computed with its gatewaySpec).
  const v2 = '990ae8a7a35e63459e51e9cc89ea68647eea6a2e7da98bd6a37998b48a51919c';
  assert.equal(gatewayHash(gatewaySpec(on([api]), gw)!.spec, { v: 2, networks: ['p_default'] }), v2);
  const legacy = { ...older, labels: { ...withoutIdentity(older.labels), [Labels.specHash]: v2 } };
  assert.deepEqual(actionsOf(on([api]), legacy), []);
  assert.deepEqual(actionsOf(on([api], ['default', 'back']), legacy), [
    'recreate: networks of the project changed (a gateway made by an older cmesh is replaced for them, once)',
  ]);
});

test('a gateway the previous cmesh made (v3 hash over its image, no identity label) is kept on that image only', () => {
  const made3 = made(on([api]));
  // Pinned: what the previous cmesh's gatewaySpec gave for this project (before the identity label).
  const v3 = 'c5b07e5057ff1d8d9c045a23af5435f5f4ba00d741646af163833e3798ae0225';
  assert.equal(gatewayHash(gatewaySpec(on([api]), gw)!.spec, { v: 3 }), v3);
  const legacy = { ...made3, labels: { ...withoutIdentity(made3.labels), [Labels.specHash]: v3 } };
  assert.deepEqual(actionsOf(on([api]), legacy), []);
  assert.deepEqual(actionsOf(on([api], ['default', 'back']), legacy), ['connect p_back ']);
  // Its identity is unknown: another image (even one with only a new node) recreates it, once.
  const newImage = { ...gw, image: 'cmesh/gateway:def', identity: 'without-node:1' };
  assert.match(actionsOf(on([api]), legacy, newImage)[0]!, /^recreate: image changed \(cmesh\/gateway:abc → cmesh\/gateway:def/);
});

test('only the host node changed (another image, same identity): the gateway is kept; another identity recreates it', () => {
  const before = { ...gw, identity: 'without-node:1' };
  const running = { ...made(on([api])), labels: { ...gatewaySpec(on([api]), before)!.spec.labels } };
  assert.deepEqual(actionsOf(on([api]), running, { ...before, image: 'cmesh/gateway:new-node' }), []);
  assert.match(actionsOf(on([api]), running, { image: 'cmesh/gateway:new-lib', identity: 'without-node:2', socketDir: '/s' })[0]!, /^recreate: image changed/);
});

test('a gateway made before the init (its supervisor in its image) is recreated once, saying so; later only a new init does', () => {
  const preInit = { ...gw, identity: 'without-node:1' };
  const running = { ...made(on([api])), labels: { ...gatewaySpec(on([api]), preInit)!.spec.labels } };
  const withInit = { image: 'cmesh/gateway:init', identity: 'init:1', socketDir: '/s' };
  assert.match(actionsOf(on([api]), running, withInit)[0]!, /^recreate: image changed \(.*: made by a cmesh whose supervisor was fixed in the image; recreated once/);
  // Made with init: another image of the same identity (a new supervisor or node) keeps it; a new init recreates it.
  const now = { ...made(on([api])), labels: { ...gatewaySpec(on([api]), withInit)!.spec.labels } };
  assert.deepEqual(actionsOf(on([api]), now, { ...withInit, image: 'cmesh/gateway:new-supervisor' }), []);
  assert.match(actionsOf(on([api]), now, { ...withInit, identity: 'init:2' })[0]!, /^recreate: image changed \(.*: new init, layout or base image\)$/);
});

test('a gateway whose identity covered the libraries (init:) is recreated once, saying so; then new libraries keep it', () => {
  const withLibs = { image: 'cmesh/gateway:libs', identity: 'init:1', socketDir: '/s' };
  const running = { ...made(on([api])), labels: { ...gatewaySpec(on([api]), withLibs)!.spec.labels } };
  const selfContained = { image: 'cmesh/gateway:rt', identity: 'init:rt:1', socketDir: '/s' };
  assert.match(actionsOf(on([api]), running, selfContained)[0]!, /^recreate: image changed \(.*: made when its workers ran on the image's libraries; recreated once/);
  // Made with the runtime identity: an image with other libraries (the same init) keeps it; a new init recreates it.
  const now = { ...made(on([api])), labels: { ...gatewaySpec(on([api]), selfContained)!.spec.labels } };
  assert.deepEqual(actionsOf(on([api]), now, { ...selfContained, image: 'cmesh/gateway:new-libc' }), []);
  assert.match(actionsOf(on([api]), now, { ...selfContained, identity: 'init:rt:2' })[0]!, /^recreate: image changed \(.*: new init, layout or base image\)$/);
});

test('without the endpoints (a list answer), the per-service digests decide as before', () => {
  const listed = made(on([api, db]), { networks: [{ name: 'p_default' }] });
  assert.deepEqual(actionsOf(on([api, db]), listed), []);
  const realiased = on([{ ...api, networks: { default: { aliases: ['api.x'] } } }, db]);
  assert.match(actionsOf(realiased, listed)[0]!, /^recreate: names of api changed/);
});
