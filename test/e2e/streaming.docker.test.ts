// Issue 5's streaming acceptance through the real daemon's proxy: 1 GiB uploaded (POST /echo, the echo counted by
// length) and 1 GiB downloaded (/bytes) with the daemon's RSS growth under 50 MB (VmRSS sampled every 200 ms), and a
// WebSocket echo through the published port. Traffic only to 127.0.0.1; every transfer is bounded in time.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { WebSocket } from 'undici';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, until } from '../helpers/cmesh-cli.ts';
import { newRunId, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('stream');
const GIB = 2 ** 30;
const RSS_GROWTH_LIMIT_MB = 50;
/** Per transfer; the whole file is meant to stay around a minute on a 2-core machine. */
const TRANSFER_TIMEOUT_MS = 60_000;
let p: EchoProject | undefined;
let cli: CmeshCli;
let port = 0;
let daemonPid = 0;
const agent = new http.Agent({ keepAlive: false });

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** Samples the daemon's VmRSS every 200 ms while `work` runs: baseline before, peak during, value after. */
async function withRss<T>(work: () => Promise<T>): Promise<{ value: T; beforeMb: number; peakMb: number; afterMb: number }> {
  const beforeMb = await rssMb(daemonPid);
  let peakMb = beforeMb;
  const timer = setInterval(() => {
    rssMb(daemonPid).then(
      (mb) => {
        peakMb = Math.max(peakMb, mb);
      },
      () => undefined,
    );
  }, 200);
  try {
    const value = await work();
    return { value, beforeMb, peakMb: Math.max(peakMb, await rssMb(daemonPid)), afterMb: await rssMb(daemonPid) };
  } finally {
    clearInterval(timer);
  }
}

/** 64 KiB chunks of a known pattern, `total` bytes, pulled by the request stream (so backpressure paces it). */
function source(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let left = total;
  return new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** One HTTP exchange with the proxy; resolves to the status and the response body's length (bytes discarded). */
function exchange(method: string, path: string, body?: Readable, length?: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: length === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': length },
        timeout: TRANSFER_TIMEOUT_MS,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.once('error', reject);
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error(`${method} ${path} took over ${TRANSFER_TIMEOUT_MS} ms`)), TRANSFER_TIMEOUT_MS);
    req.once('close', () => clearTimeout(deadline));
    req.once('timeout', () => req.destroy(new Error(`${method} ${path}: idle for ${TRANSFER_TIMEOUT_MS} ms`)));
    req.once('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

const mbps = (bytes: number, ms: number): string => `${((bytes / 2 ** 20) / (ms / 1000)).toFixed(0)} MiB/s`;

before(async () => {
  p = await echoProject({
    runId,
    service: 'echo',
    health: { interval: '500ms', timeout: '1s', rise: 1, fall: 2 },
    timeouts: { request: '120s' },
  });
  ({ cli, port } = p);
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  await until('the echo replica routable', 20_000, async () => {
    const rows = JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
    return rows.find((r) => r.service === 'echo')?.replicas.some((r) => r.routable) ? true : undefined;
  }, 200);
  daemonPid = (await cli.daemonPid()) ?? 0;
  assert.ok(daemonPid > 0, 'the daemon pid is known');
  // Warm the path (pools, JIT) so the baseline is not the proxy's first-request allocations.
  assert.equal((await exchange('GET', `/bytes?n=${2 ** 20}`)).bytes, 2 ** 20);
});

after(async () => {
  agent.destroy();
  await p?.teardown();
});

test('1 GiB down (GET /bytes) through the proxy: full length, daemon RSS growth < 50 MB', { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const r = await withRss(() => exchange('GET', `/bytes?n=${GIB}`));
  const ms = performance.now() - t0;
  console.log(`# 1 GiB down: ${ms.toFixed(0)} ms (${mbps(GIB, ms)}); daemon RSS ${r.beforeMb.toFixed(1)} → peak ${r.peakMb.toFixed(1)} → ${r.afterMb.toFixed(1)} MB`);
  assert.equal(r.value.status, 200);
  assert.equal(r.value.bytes, GIB);
  assert.ok(r.peakMb - r.beforeMb < RSS_GROWTH_LIMIT_MB, `RSS grew ${(r.peakMb - r.beforeMb).toFixed(1)} MB`);
});

test('1 GiB up (POST /echo) through the proxy: echoed in full, daemon RSS growth < 50 MB', { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const r = await withRss(() => exchange('POST', '/echo', source(GIB), GIB));
  const ms = performance.now() - t0;
  console.log(`# 1 GiB up (+ its echo down): ${ms.toFixed(0)} ms (${mbps(GIB, ms)}); daemon RSS ${r.beforeMb.toFixed(1)} → peak ${r.peakMb.toFixed(1)} → ${r.afterMb.toFixed(1)} MB`);
  assert.equal(r.value.status, 200);
  assert.equal(r.value.bytes, GIB);
  assert.ok(r.peakMb - r.beforeMb < RSS_GROWTH_LIMIT_MB, `RSS grew ${(r.peakMb - r.beforeMb).toFixed(1)} MB`);
});

test('WebSocket echo through the published port: text, binary and close handshake', { timeout: 30_000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.binaryType = 'arraybuffer';
  const received: (string | ArrayBuffer)[] = [];
  const closed = new Promise<{ code: number }>((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no WebSocket handshake within 10 s')), 10_000);
    ws.addEventListener('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.addEventListener('error', () => {
      clearTimeout(timer);
      reject(new Error('WebSocket error before open'));
    });
  });
  const messages = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length}/3 echoes within 10 s`)), 10_000);
    ws.addEventListener('message', (e) => {
      received.push(e.data as string | ArrayBuffer);
      if (received.length === 3) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const binary = Buffer.alloc(200_000, 7); // larger than one TCP segment and one frame header's short length
  ws.send('hello through cmesh');
  ws.send(binary);
  ws.send('ünïcödé ✓');
  await messages;
  assert.equal(received[0], 'hello through cmesh');
  assert.ok(received[1] instanceof ArrayBuffer);
  assert.ok(Buffer.from(received[1]).equals(binary), 'binary echoed byte for byte');
  assert.equal(received[2], 'ünïcödé ✓');
  ws.close(1000, 'done');
  assert.equal((await closed).code, 1000);
});
