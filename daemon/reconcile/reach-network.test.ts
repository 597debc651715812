// Which network the daemon may reach a replica on at its own address (container-spec.ts reachNetworkOf), and that the
// choice stays out of the spec hash (a daemon that reaches replicas another way does not recreate them).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NetworkSpec } from '../api/project.ts';
import { createSpec } from './container-spec.ts';
import { specHash } from './hash.ts';
import { project, svc } from './testing.ts';

const net = (name: string, over: Partial<NetworkSpec> = {}): NetworkSpec => ({ name, engineName: `demo_${name}`, external: false, internal: false, labels: {}, ...over });
const web = svc('web', { expose: [8080], networks: { default: { aliases: [] } } });

describe('createSpec: the reach network', () => {
  it('is the project default bridge network of a service with ports', () => {
    assert.equal(createSpec(project('demo', [web]), web, 1, 'h').reachNetwork, 'demo_default');
    const internal = project('demo', [web], { networks: { default: net('default', { internal: true, driver: 'bridge' }) } });
    assert.equal(createSpec(internal, web, 1, 'h').reachNetwork, 'demo_default', 'the host reaches an internal bridge too');
  });

  it('is none for a service without ports, in another namespace, or only on networks the host may not route to', () => {
    const quiet = svc('web', { networks: { default: { aliases: [] } } });
    assert.equal(createSpec(project('demo', [quiet]), quiet, 1, 'h').reachNetwork, undefined);
    const shared = svc('web', { expose: [8080], options: { networkMode: 'host' } });
    assert.equal(createSpec(project('demo', [shared]), shared, 1, 'h').reachNetwork, undefined);
    const unreachable = [
      net('default', { external: true }),
      net('default', { driver: 'macvlan' }),
      net('default', { driver: 'overlay' }),
      net('default', { enableIpv4: false }),
      net('default', { driverOpts: { 'com.docker.network.bridge.inhibit_ipv4': 'true' } }),
      net('default', { driverOpts: { 'com.docker.network.bridge.gateway_mode_ipv4': 'isolated' } }),
    ];
    for (const other of unreachable) {
      assert.equal(createSpec(project('demo', [web], { networks: { default: other } }), web, 1, 'h').reachNetwork, undefined, JSON.stringify(other));
    }
  });

  it('is the first reachable network in connect order', () => {
    const two = svc('web', { expose: [8080], networks: { ext: { aliases: [] }, back: { aliases: [] }, front: { aliases: [], priority: 10 } } });
    const networks = { ext: net('ext', { external: true, engineName: 'shared' }), back: net('back'), front: net('front') };
    assert.equal(createSpec(project('demo', [two], { networks }), two, 1, 'h').reachNetwork, 'demo_front');
    const noFront = { ...networks, front: net('front', { driver: 'ipvlan' }) };
    assert.equal(createSpec(project('demo', [two], { networks: noFront }), two, 1, 'h').reachNetwork, 'demo_back');
  });

  it('is not hashed: the replica spec hash is the same whichever network reaches it', () => {
    const a = project('demo', [web]);
    const b = project('demo', [web], { networks: { default: net('default', { external: true, engineName: 'demo_default' }) } });
    assert.notEqual(createSpec(a, web, 1, 'h').reachNetwork, createSpec(b, web, 1, 'h').reachNetwork);
    assert.equal(specHash(a, web), specHash(b, web));
  });
});
