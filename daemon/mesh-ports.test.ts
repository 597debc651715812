// Published host port ranges (`80-90:8080`): the listener takes the first free port of the range, on loopback.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import type { UpstreamPool } from '../mesh/upstream-pool.ts';
import { CmeshError } from './api/errors.ts';
import { MeshPorts, wantedBindings } from './mesh-ports.ts';
import { project, svc } from './reconcile/testing.ts';

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
const ports = () => new MeshPorts({ poolFor: () => pool, emit() {}, log() {} });
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
