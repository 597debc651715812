// Published host port ranges (`80-90:8080`): the listener takes the first free port of the range, on loopback.
// UDP ports get a forwarder, beside a TCP listener on the same host port when both are published.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import type { DatagramPool } from '../mesh/udp/forwarder.ts';
import type { UpstreamPool } from '../mesh/upstream-pool.ts';
import { CmeshError } from './api/errors.ts';
import { MeshPorts, wantedBindings } from './mesh-ports.ts';
import { project, svc } from './reconcile/testing.ts';
import { udpPortFree } from '../test/helpers/free-port.ts';

const blockers: Server[] = [];
after(async () => {
  await Promise.all(blockers.map((s) => new Promise((r) => s.close(r))));
});

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      blockers.push(s);
      resolve(s);
    });
  });
}

/** Occupies `count` consecutive loopback ports (bounded retries) and returns the first. */
async function occupy(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const got: Server[] = [];
    for (let i = 0; i < count; i++) {
      const s = await listen(base + i);
      if (s === undefined) break;
      got.push(s);
    }
    if (got.length === count) return base;
    for (const s of got) await new Promise((r) => s.close(r));
  }
  throw new Error('no free run of loopback ports');
}

const pool: UpstreamPool = { service: 'web', pick: () => undefined, onStart() {}, onResult() {}, snapshot: () => ({ total: 0, healthy: 0, draining: 0, panic: false }) };
const datagrams: DatagramPool = { service: 'web', pick: () => undefined, current: () => undefined, onResult() {} };
const ports = () => new MeshPorts({ poolFor: () => pool, datagramPoolFor: () => datagrams, emit() {}, log() {} });
const spec = (published: number, publishedEnd: number) =>
  project('ranges', [svc('web', { ports: [{ target: 8080, published, publishedEnd, hostIp: '127.0.0.1', protocol: 'tcp' }] })]);

test('a host range binds the first free port after the taken ones, and a resync keeps it', async () => {
  const base = await occupy(2);
  const mesh = ports();
  try {
    const s = spec(base, base + 6);
    await mesh.sync(s, { rollback: true });
    const [b] = mesh.bindings('ranges');
    assert.ok(b && b.port > base + 1 && b.port <= base + 6, `bound ${b?.port} for range ${base}-${base + 6}`);
    await mesh.sync(s, { rollback: true });
    assert.deepEqual(mesh.bindings('ranges').map((x) => x.port), [b.port]);
    assert.equal([...wantedBindings(s).values()][0]?.portEnd, base + 6);
  } finally {
    await mesh.close();
  }
});

test('a range whose every port is taken fails with CMESH_E_PORT_TAKEN', async () => {
  const base = await occupy(2);
  const mesh = ports();
  const err = await mesh.sync(spec(base, base + 1), { rollback: true }).then(
    () => assert.fail('should not bind'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CmeshError && err.code === 'CMESH_E_PORT_TAKEN', String(err));
  assert.match(err.message, new RegExp(`:${base + 1}`));
  assert.deepEqual(mesh.bindings(), []);
});

test('`53:53/tcp` and `53:53/udp` bind the same host port twice, and a UDP range walks past a taken port', async () => {
  let port = 0;
  for (let i = 0; i < 20 && port === 0; i++) {
    const candidate = await occupy(1);
    await Promise.all(blockers.splice(0).map((s) => new Promise((r) => s.close(r))));
    if (await udpPortFree(candidate)) port = candidate;
  }
  assert.ok(port > 0, 'a port free for TCP and UDP');
  const both = project('dual', [
    svc('dns', {
      ports: [
        { target: 53, published: port, hostIp: '127.0.0.1', protocol: 'tcp' },
        { target: 53, published: port, hostIp: '127.0.0.1', protocol: 'udp' },
      ],
    }),
  ]);
  const mesh = ports();
  try {
    await mesh.sync(both, { rollback: true });
    assert.deepEqual(
      mesh.bindings('dual').map((b) => `${b.port}/${b.protocol}`).sort(),
      [`${port}/tcp`, `${port}/udp`],
    );
    assert.equal(await udpPortFree(port), false);
    // A resync (what every reconcile and scale does) keeps both bound.
    await mesh.sync(both, { rollback: true });
    assert.equal(mesh.bindings('dual').length, 2);
    const [udp] = mesh.udpStats();
    assert.deepEqual({ service: udp?.service, port: udp?.port, sessions: udp?.stats.sessions }, { service: 'dns', port, sessions: 0 });
    // The UDP port is taken now: a UDP range starting on it moves on to the next free port.
    const ranged = project('ranged', [svc('dns', { ports: [{ target: 53, published: port, publishedEnd: port + 5, hostIp: '127.0.0.1', protocol: 'udp' }] })]);
    await mesh.sync(ranged, { rollback: true });
    const [b] = mesh.bindings('ranged');
    assert.ok(b && b.protocol === 'udp' && b.port > port && b.port <= port + 5, `bound ${b?.port}`);
  } finally {
    await mesh.close();
  }
  assert.equal(await udpPortFree(port), true);
});
