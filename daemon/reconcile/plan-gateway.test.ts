// The east-west gateway's create spec and the replicas' aliases: who answers for a service's name on which network.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eastWestPlan } from '../api/east-west.ts';
import { Labels } from '../api/labels.ts';
import { createSpec } from './container-spec.ts';
import { specHash } from './hash.ts';
import { gatewayIndexOf, gatewaySpec } from './plan-gateway.ts';
import { project, svc } from './testing.ts';

const MESH = svc('x').mesh;
const gw = { image: 'cmesh/gateway:abc', socketDir: '/state/gw/p' };
const nets = {
  default: { name: 'default', engineName: 'p_default', external: false, internal: false, labels: {} },
  back: { name: 'back', engineName: 'p_back', external: false, internal: true, labels: {} },
};
const services = [
  svc('web', { ports: [{ target: 3000, published: 8080, protocol: 'tcp' }] }),
  svc('api', { expose: [3000, 9229], mesh: { ...MESH, health: { ...MESH.health, path: '/up' } }, networks: { default: { aliases: [] }, back: { aliases: ['api.back'] } } }),
  svc('db', { expose: [5432], networks: { back: { aliases: [] } } }),
  svc('cache', { expose: [6379], mesh: { ...MESH, eastWest: false } }),
  svc('queue', { expose: [5432] }),
  svc('raw', { expose: [7000], mesh: { ...MESH, protocol: 'tcp', ports: [7001] } }),
];

test('east-west plan: HTTP only where known, shared HTTP ports in one gateway, a TCP collision in a second', () => {
  assert.deepEqual(eastWestPlan(project('p', services, { networks: nets })), { services: [], skipped: [], gateways: 0 });
  const p = eastWestPlan(project('p', services, { networks: nets, eastWest: true }));
  assert.deepEqual(p.services, [
    { name: 'api', ports: [{ port: 3000, protocol: 'http' }, { port: 9229, protocol: 'tcp' }], probePort: 3000, gateway: 0 },
    { name: 'db', ports: [{ port: 5432, protocol: 'tcp' }], probePort: 5432, gateway: 0 },
    // queue is TCP on 5432 like db: the first gateway cannot tell them apart.
    { name: 'queue', ports: [{ port: 5432, protocol: 'tcp' }], probePort: 5432, gateway: 1 },
    { name: 'raw', ports: [{ port: 7000, protocol: 'tcp' }, { port: 7001, protocol: 'tcp' }], probePort: 7000, gateway: 0 },
    // web shares 3000 with api, both HTTP: told apart by Host in the first gateway.
    { name: 'web', ports: [{ port: 3000, protocol: 'http' }], probePort: 3000, gateway: 0 },
  ]);
  assert.equal(p.gateways, 2);
  assert.deepEqual(p.skipped.map((s) => s.service), ['cache']);
});

test('east-west plan: first fit, a new gateway only when every one has a collision; HTTP joins wherever it fits', () => {
  const tcp = (name: string, port: number) => svc(name, { expose: [port], mesh: { ...MESH, protocol: 'tcp' } });
  const http = (name: string, port: number) => svc(name, { expose: [port], mesh: { ...MESH, protocol: 'http', protocolExplicit: true } });
  const p = eastWestPlan(project('p', [tcp('a', 5432), tcp('b', 5432), tcp('c', 5432), tcp('d', 6379), http('e', 3000), http('f', 3000), http('g', 5432)], { eastWest: true }));
  assert.deepEqual(
    p.services.map((s) => [s.name, s.gateway]),
    [['a', 0], ['b', 1], ['c', 2], ['d', 0], ['e', 0], ['f', 0], ['g', 3]],
  );
  assert.equal(p.gateways, 4);
});

test('gateway specs: each carries only its own services; the second is named -2 and told its index', () => {
  const spec = project('p', services, { networks: nets, eastWest: true });
  const second = gatewaySpec(spec, gw, 1)!;
  assert.equal(second.spec.name, 'p-cmesh-gateway-2');
  assert.equal(second.spec.env['CMESH_GATEWAY_INDEX'], '1');
  assert.deepEqual(second.spec.networks, [
    { name: 'p_back', aliases: [] },
    { name: 'p_default', aliases: ['queue'] },
  ]);
  assert.equal(gatewaySpec(spec, gw)!.spec.env['CMESH_GATEWAY_INDEX'], undefined, 'the first keeps its env (and hash)');
  assert.equal(gatewaySpec(spec, gw, 2), undefined);
  assert.equal(gatewayIndexOf('p', 'p-cmesh-gateway'), 0);
  assert.equal(gatewayIndexOf('p', 'p-cmesh-gateway-2'), 1);
  assert.equal(gatewayIndexOf('p', 'p-cmesh-gateway-12'), 11);
  for (const other of ['p-cmesh-gateway-1', 'p-cmesh-gateway-02', 'p-cmesh-gateway-x', 'q-cmesh-gateway', 'p-web-1']) {
    assert.equal(gatewayIndexOf('p', other), undefined, other);
  }
});

test('gateway spec: joins every project network with the meshed names and compose aliases there; hash over the spec', () => {
  const spec = project('p', services, { networks: nets, eastWest: true });
  const g = gatewaySpec(spec, gw)!;
  assert.equal(g.spec.name, 'p-cmesh-gateway');
  assert.deepEqual(g.spec.networks, [
    { name: 'p_back', aliases: ['api', 'api.back', 'db'] },
    { name: 'p_default', aliases: ['api', 'raw', 'web'] },
  ]);
  assert.deepEqual(g.spec.mounts, [{ type: 'bind', source: '/state/gw/p', target: '/run/cmesh', readOnly: false }]);
  assert.equal(g.spec.labels[Labels.role], 'gateway');
  assert.equal(g.spec.labels[Labels.specHash], g.hash);
  assert.equal(g.spec.labels[Labels.service], undefined);
  assert.notEqual(gatewaySpec(spec, { ...gw, image: 'cmesh/gateway:def' })!.hash, g.hash);
  assert.equal(gatewaySpec(project('p', services, { networks: nets }), gw), undefined);
});

test('replicas of meshed services drop their DNS aliases (and publish every meshed port); others keep them', () => {
  const spec = project('p', services, { networks: nets, eastWest: true });
  const aliases = (name: string) => createSpec(spec, spec.services[name]!, 1, 'h').networks.map((n) => [n.name, n.aliases]);
  assert.deepEqual(aliases('api'), [['p_back', []], ['p_default', []]]);
  assert.deepEqual(aliases('cache'), [['p_default', ['cache']]]);
  assert.deepEqual(aliases('queue'), [['p_default', []]], 'queue is meshed through the second gateway');
  assert.deepEqual(createSpec(spec, spec.services['raw']!, 1, 'h').ports.map((p) => p.containerPort), [7000, 7001]);
  // Off by default: nothing changes, not even the hash.
  const plain = project('p', services, { networks: nets });
  assert.deepEqual(createSpec(plain, plain.services['api']!, 1, 'h').networks.map((n) => n.aliases), [['api', 'api.back'], ['api']]);
  assert.notEqual(specHash(spec, spec.services['api']!), specHash(plain, plain.services['api']!));
  assert.equal(specHash(spec, spec.services['cache']!), specHash(plain, plain.services['cache']!));
});
