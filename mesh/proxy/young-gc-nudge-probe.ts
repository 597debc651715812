// A child program for young-gc-nudge.test.ts: streams 64 MiB through the real proxy — `http` (a GET of a 64 MiB body
// from a node echo replica, node's parser on the proxy) or `tcp` (TCP mode: a sink replica behind a tunnel) — and
// exits 0. Run with `--expose-gc --trace-gc`: each minor GC the nudge runs prints a "Scavenge … testing" line.

import net from 'node:net';
import { request } from 'undici';
import { TestPool, startEcho, startProxy, testMesh } from './testing.ts';

const MIB = 2 ** 20;
const SIZE = 64 * MIB;

async function viaHttp(): Promise<void> {
  const echo = await startEcho('web#1');
  const p = await startProxy(new TestPool('web', [echo.upstream]));
  try {
    const r = await request(`${p.url}/bytes?n=${SIZE}`);
    let n = 0;
    for await (const chunk of r.body as AsyncIterable<Buffer>) n += chunk.length;
    if (n !== SIZE) throw new Error(`got ${n} of ${SIZE} bytes`);
  } finally {
    await p.close();
    await echo.stop();
  }
}

async function viaTcp(): Promise<void> {
  let received = 0;
  const sink = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (b: Buffer) => {
      received += b.length;
    });
    s.on('end', () => s.end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.address() as net.AddressInfo).port;
  const p = await startProxy(new TestPool('db', [{ id: 'db#1', host: '127.0.0.1', port }]), testMesh({ protocol: 'tcp' }));
  try {
    await new Promise<void>((resolve, reject) => {
      const c = net.connect({ port: p.port, host: '127.0.0.1', allowHalfOpen: true });
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      let left = SIZE;
      const pump = (): void => {
        while (left > 0) {
          left -= chunk.length;
          if (!c.write(chunk)) return void c.once('drain', pump);
        }
        c.end();
      };
      c.on('connect', pump);
      c.on('error', reject);
      c.resume();
      c.on('close', () => resolve());
    });
    if (received !== SIZE) throw new Error(`the sink got ${received} of ${SIZE} bytes`);
  } finally {
    await p.close();
    sink.close();
  }
}

await (process.argv[2] === 'tcp' ? viaTcp() : viaHttp());
