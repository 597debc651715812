// TCP mode: raw connections balanced over replicas, half-close passed through, connect failures failed over.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { Upstream } from '../upstream-pool.ts';
import { TestPool, startProxy, testMesh } from './testing.ts';

/** Echoes everything; on the client's FIN answers `bye:<id>` and ends (exercises half-close). */
async function tcpEcho(id: string): Promise<{ upstream: Upstream; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end(`bye:${id}`));
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { upstream: { id, host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, server };
}

/** Writes `payload`, half-closes, and resolves with everything received until the proxy closes. */
function exchange(port: number, payload: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(payload));
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.setTimeout(5000, () => reject(new Error('timeout')));
  });
}

const mesh = testMesh({ protocol: 'tcp' });

describe('tcp proxy', { timeout: 30_000 }, () => {
  test('round-trips bytes and passes the half-close both ways', async () => {
    const a = await tcpEcho('db#1');
    const p = await startProxy(new TestPool('db', [a.upstream]), mesh);
    try {
      const out = await exchange(p.port, 'ping');
      assert.equal(out.toString(), 'pingbye:db#1');
      const big = Buffer.alloc(20 * 1024 * 1024, 7);
      const back = await exchange(p.port, big);
      assert.equal(back.length, big.length + 'bye:db#1'.length);
    } finally {
      await p.close();
      a.server.close();
    }
  });

  test('balances connections and fails over a refused connect', async () => {
    const a = await tcpEcho('db#1');
    const b = await tcpEcho('db#2');
    const pool = new TestPool('db', [{ id: 'db#dead', host: '127.0.0.1', port: 1 }, a.upstream, b.upstream]);
    const p = await startProxy(pool, mesh);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await exchange(p.port, '')).toString());
      assert.deepEqual([...seen].sort(), ['bye:db#1', 'bye:db#2']);
      assert.ok((pool.outcomes()['connect-error'] ?? 0) >= 1);
    } finally {
      await p.close();
      a.server.close();
      b.server.close();
    }
  });

  test('no reachable replica resets the client connection', async () => {
    const pool = new TestPool('db', [{ id: 'db#dead', host: '127.0.0.1', port: 1 }]);
    const p = await startProxy(pool, mesh);
    try {
      await assert.rejects(exchange(p.port, 'x'), /ECONNRESET|socket hang up|timeout/);
      const stats = p.listener.proxy.kind === 'tcp' ? p.listener.proxy.stats() : undefined;
      assert.equal(stats?.failed, 1);
    } finally {
      await p.close();
    }
  });
});
