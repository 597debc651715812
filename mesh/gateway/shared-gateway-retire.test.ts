// The shared gateway under the real supervisor: two projects' Gateways in one cluster worker, one port on two
// addresses. One project retiring closes its own sockets only (the primary's copies of the other's stay), and the next
// worker still binds the other project's port. The test process is the cluster primary; loopback only.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION } from '../../daemon/api/gateway-control.ts';
import { httpService } from './gateway-test-kit.ts';
import { connectOutcome, freePort, next, supervised, until } from './supervisor-test-kit.ts';

/**
 * A worker bundle running project a's Gateway on 127.0.0.2 and b's on 127.0.0.3, both on `port`; the test's messages:
 * `test-retire-a`, `test-upgrade` (ask the supervisor for `file`).
 */
function workerFile(dir: string, name: string, port: number): string {
  const file = join(dir, `${name}.mjs`);
  const table = (project: string, replica: string) => {
    const web = httpService('web', port, 'abcdefabcdef');
    return { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project, services: [{ ...web, replicas: web.replicas.map((r) => ({ ...r, address: replica })) }] };
  };
  writeFileSync(
    file,
    `import { Gateway } from ${JSON.stringify(new URL('./gateway.ts', import.meta.url).href)};
const abort = new AbortController();
const make = (host) => new Gateway({ signal: abort.signal, holdListeners: true, hosts: [host] });
const a = make('127.0.0.2');
const b = make('127.0.0.3');
process.on('message', async (m) => {
  if (m?.type === 'cmesh-gateway-drain') { a.startDraining(); b.startDraining(); }
  if (m?.type === 'test-upgrade') process.send({ type: 'cmesh-gateway-upgrade', file: m.file });
  if (m?.type === 'test-retire-a') await a.retire().then(() => process.send({ type: 'test-retired' }));
});
await a.apply(${JSON.stringify(table('a', '127.0.0.21'))});
await b.apply(${JSON.stringify(table('b', '127.0.0.31'))});
await Promise.all([a.listen(), b.listen()]);
process.send({ type: 'cmesh-gateway-ready', warnings: [...a.warnings(), ...b.warnings()] });
`,
  );
  return file;
}

const connect = connectOutcome;


test("one project retiring in the shared worker closes only its own sockets; a swap still binds the other's", { timeout: 30_000 }, async (t: TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-shared-retire-'));
  const port = await freePort();
  const replicas = ['127.0.0.21', '127.0.0.31'].map((h) => http.createServer((_req, res) => res.end(h)).listen(port, h));
  const v1 = workerFile(dir, 'v1', port);
  const v2 = workerFile(dir, 'v2', port);
  const { first, log } = await supervised(t, { dir, initial: v1, replicas, drainMs: 2000, drainNoticeMs: 100 });
  assert.deepEqual(first.m.warnings, []);
  assert.equal(await connect(port, '127.0.0.2'), 'connected');
  assert.equal(await connect(port, '127.0.0.3'), 'connected');

  const retired = next('test-retired');
  first.worker.send({ type: 'test-retire-a' });
  await retired;
  await until('a to refuse', 5000, async () => (await connect(port, '127.0.0.2')) === 'ECONNREFUSED');
  assert.equal(await connect(port, '127.0.0.3'), 'connected', "b's socket stays open");

  // A worker swap: the new worker shares b's socket from the primary (its copy must still be open).
  const secondReady = next('cmesh-gateway-ready');
  const exited = new Promise((r) => first.worker.once('exit', r));
  first.worker.send({ type: 'test-upgrade', file: v2 });
  // Bounded: a new worker that cannot bind b's port never gets ready (the supervisor would wait 15 s for it).
  let bound: NodeJS.Timeout | undefined;
  const second = await Promise.race([
    secondReady,
    new Promise<never>((_, reject) => {
      bound = setTimeout(() => reject(new Error(`the new worker was not ready within 8 s:\n${log()}`)), 8000);
    }),
  ]).finally(() => clearTimeout(bound));
  await exited;
  assert.equal(await connect(port, '127.0.0.3'), 'connected', `b served by the new worker:\n${log()}`);
  // The new worker's a has its own socket again (a's retire was the old worker's).
  assert.deepEqual(second.m.warnings, [], `the new worker bound both:\n${log()}`);
});
