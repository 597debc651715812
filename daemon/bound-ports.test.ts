// A host range's first port is taken: `cmesh port` and `cmesh services` show the port the listener took instead,
// never the range's first port (which belongs to someone else).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { MeshRuntime } from './mesh-wiring.ts';
import { publicPort } from './project-verbs.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const mesh = new MeshRuntime({ emit: () => undefined });
after(() => mesh.close());

/** Holds a free loopback port whose successor is free too (bounded retries), so the range can move on to it. */
async function holdPortWithFreeNext(): Promise<net.Server> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const probe = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port + 1, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free && port < 65_535) return holder;
    await new Promise((r) => holder.close(r));
  }
  throw new Error('no loopback port with a free successor');
}

test('a range whose first port is taken: port and services answer the port the listener took', async () => {
  const holder = await holdPortWithFreeNext();
  const first = (holder.address() as net.AddressInfo).port;
  try {
    const ports = [{ target: 3000, published: first, publishedEnd: first + 1, hostIp: '127.0.0.1', protocol: 'tcp' as const }];
    const d = desired(project('ranged', [svc('web', { ports })]));
    await mesh.publish(d);
    const mapping = { service: 'web', host: '127.0.0.1', target: 3000, protocol: 'tcp' as const, published: first };
    assert.equal(mesh.publishedPort('ranged', mapping), first + 1);
    assert.deepEqual(mesh.services('ranged')[0]?.publishedPorts.map((p) => p.published), [first + 1]);

    const ctx = { engine: undefined as never, project: 'ranged', reconcileNow: async () => undefined };
    const request = { service: 'web', privatePort: 3000, protocol: 'tcp' as const, index: 1 };
    const answer = await publicPort(ctx, d.project, request, (m) => mesh.publishedPort('ranged', m));
    assert.deepEqual(answer, { host: '127.0.0.1', port: first + 1, via: 'mesh' });
    await mesh.unpublish('ranged');
  } finally {
    await new Promise((r) => holder.close(r));
  }
});

test('a single published port is answered as written (no range, nothing to look up)', async () => {
  const d = desired(project('single', [svc('web', { ports: [{ target: 3000, published: 0, hostIp: '127.0.0.1', protocol: 'tcp' }] })]));
  const mapping = { service: 'web', host: '127.0.0.1', target: 3000, protocol: 'tcp' as const, published: 8080 };
  assert.equal(mesh.publishedPort('single', mapping), 8080);
  const ctx = { engine: undefined as never, project: 'single', reconcileNow: async () => undefined };
  const answer = await publicPort(ctx, d.project, { service: 'web', privatePort: 3000, protocol: 'tcp', index: 1 });
  assert.deepEqual(answer, { host: '127.0.0.1', port: 0, via: 'mesh' });
});
