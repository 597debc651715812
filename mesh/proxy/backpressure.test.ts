// Backpressure through the proxy in both read paths: a side that stops reading stops the proxy reading the other
// side, so the proxy never holds more than its socket buffers of an upload or a download.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { TestPool, describeEachReadPath, startProxy, testMesh } from './testing.ts';

/** Far more than every socket buffer on the way (loopback receive buffers autotune up to tcp_rmem's max, 32 MiB here). */
const TOTAL = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Accepted bytes stop growing for this long: the peer is not taking more. */
const STALL_MS = 500;

/**
 * Writes up to `total` bytes honouring 'drain', and returns how many the kernel took before writes stalled for STALL_MS
 * (or all of them). Bounded by the count and by 20 s.
 */
async function pushUntilStalled(socket: net.Socket, total: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  let written = 0;
  while (written < total && Date.now() < deadline && !socket.destroyed) {
    written += CHUNK.length;
    if (socket.write(CHUNK)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        socket.off('drain', onDrain);
        resolve(false);
      }, STALL_MS);
      const onDrain = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.once('drain', onDrain);
    });
    if (!drained) break;
  }
  return written - socket.writableLength;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const mesh = testMesh({ timeouts: { connectMs: 1000, requestMs: 30_000, idleMs: 30_000 } });

describeEachReadPath('backpressure', { timeout: 60_000 }, () => {
  test('a replica that reads no request body stops the proxy reading the upload', async () => {
    const sockets = new Set<net.Socket>();
    // The replica reads the request head, then nothing more.
    const replica = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('data', () => s.pause());
    });
    const port = await listen(replica);
    const proxy = await startProxy(new TestPool('web', [{ id: 'web#1', host: '127.0.0.1', port }]), mesh);
    const client = net.connect(proxy.port, '127.0.0.1');
    client.on('error', () => undefined);
    try {
      client.write(`POST /upload HTTP/1.1\r\nHost: web\r\nContent-Length: ${TOTAL}\r\n\r\n`);
      const accepted = await pushUntilStalled(client, TOTAL);
      assert.ok(sockets.size === 1, 'the request reached the replica');
      assert.ok(accepted < TOTAL / 4, `the proxy took ${accepted >> 20} MiB of a ${TOTAL >> 20} MiB upload the replica does not read`);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      await proxy.close();
      replica.close();
    }
  });

  test('a client that reads no response stops the proxy reading the replica', async () => {
    let accepted: Promise<number> | undefined;
    const sockets = new Set<net.Socket>();
    const replica = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('data', () => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${TOTAL}\r\n\r\n`);
        accepted = pushUntilStalled(s, TOTAL);
      });
    });
    const port = await listen(replica);
    const proxy = await startProxy(new TestPool('web', [{ id: 'web#1', host: '127.0.0.1', port }]), mesh);
    // The client sends its request and never reads.
    const client = net.connect(proxy.port, '127.0.0.1', () => client.write('GET /download HTTP/1.1\r\nHost: web\r\n\r\n'));
    client.pause();
    client.on('error', () => undefined);
    try {
      for (let i = 0; i < 200 && accepted === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(accepted !== undefined, 'the request reached the replica');
      const n = await accepted;
      assert.ok(n < TOTAL / 4, `the proxy took ${n >> 20} MiB of a ${TOTAL >> 20} MiB response its client does not read`);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      await proxy.close();
      replica.close();
    }
  });
});
