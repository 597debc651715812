// Two defects on the real proxy path (loopback upstreams): routes match the normalized path (an escape or a dot segment
// cannot steer a request past its route, and the replica gets the path the route was chosen on; %2F stays encoded),
// and a request the policy refuses for a route's target (429, fault, overflow) is logged and counted under that target.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import type { AccessLogEntry } from '../proxy/access-log.ts';
import { type RunningProxy, type TestUpstream, TestPool, startProxy, startUpstream, testMesh } from '../proxy/testing.ts';
import { ListenerPolicy } from './listener-policy.ts';
import { ProjectPolicyState } from './project-state.ts';

const POLICY: TrafficPolicy = {
  routes: [
    { match: { pathPrefix: '/admin/' }, stripPrefix: '/admin', to: [{ service: 'admin', weight: 1 }] },
    { match: { pathPrefix: '/%7Euser/' }, to: [{ service: 'admin', weight: 1 }] },
    { match: { pathPrefix: '/limited/' }, to: [{ service: 'admin', weight: 1 }], rateLimit: { requestsPerSecond: 0.01, burst: 1, key: 'route' } },
    { match: { pathPrefix: '/' }, to: [{ service: 'front', weight: 1 }] },
  ],
};

describe('normalized route paths and refusals counted under the target', () => {
  const ups: Record<string, TestUpstream> = {};
  const pools: Record<string, TestPool> = {};
  const log: AccessLogEntry[] = [];
  let proxy: RunningProxy;

  before(async () => {
    for (const name of ['front', 'admin']) {
      ups[name] = await startUpstream(name, (req, res) => {
        req.resume();
        res.end(JSON.stringify({ name, url: req.url }));
      });
      pools[name] = new TestPool(name, [ups[name]!.upstream]);
    }
    const state = new ProjectPolicyState();
    state.update({ front: { policy: POLICY }, admin: {} });
    const resolve = (t: { service: string }) => (pools[t.service] ? { service: t.service, pool: pools[t.service]!, mesh: testMesh() } : undefined);
    const policy = new ListenerPolicy({ service: 'front', listenerPort: 80, state, resolve }, POLICY);
    proxy = await startProxy(pools['front']!, testMesh(), { policy, onRequest: (e) => log.push(e) });
  });

  after(async () => {
    await proxy.close();
    for (const u of Object.values(ups)) await u.close();
  });

  /** A raw request target, sent as written (fetch would normalize it first). */
  const send = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: proxy.port, path, agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  const served = async (path: string) => JSON.parse((await send(path)).body) as { name: string; url: string };

  it('escapes of unreserved characters and dot segments match the route their plain spelling takes', async () => {
    assert.deepEqual(await served('/%61dmin/users?q=%41'), { name: 'admin', url: '/users?q=%41' });
    assert.deepEqual(await served('/public/../admin/x'), { name: 'admin', url: '/x' });
    assert.deepEqual(await served('/public/%2e%2e/admin/x'), { name: 'admin', url: '/x' });
    // A configured escape is normalized too: `/%7Euser/` in the file is `/~user/`.
    assert.deepEqual(await served('/~user/a'), { name: 'admin', url: '/~user/a' });
    // Without a route change the replica still gets the normalized path.
    assert.deepEqual(await served('/x/./y'), { name: 'front', url: '/x/y' });
    assert.deepEqual(await served('/plain/%c3%a9'), { name: 'front', url: '/plain/%C3%A9' });
  });

  it('%2F is kept encoded and is not a separator: /admin%2Fusers is not under /admin/', async () => {
    assert.deepEqual(await served('/admin%2Fusers'), { name: 'front', url: '/admin%2Fusers' });
  });

  it("a route's own 429 is logged under the route's target, not the listener's service", async () => {
    assert.equal((await send('/limited/')).status, 200);
    assert.equal((await send('/limited/')).status, 429);
    const refused = log.find((e) => e.path === '/limited/' && e.status === 429);
    assert.ok(refused, JSON.stringify(log.slice(-2)));
    assert.equal(refused.error, 'rate-limited');
    assert.equal(refused.service, 'front');
    assert.equal(refused.target, 'admin');
    assert.match(refused.route ?? '', /^#2 /);
  });
});
