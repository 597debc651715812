// The gateway's listeners as they ship, in a cluster worker under the real supervisor: a worker swap keeps every port
// open (the new worker shares the primary's listening socket, 0 calls refused under load), a port re-bound inside one
// worker serves again, and a retiring worker's close really closes the socket (new connections are refused). The test
// process is the cluster primary; the workers run the real Gateway (supervisor-test-kit.ts), loopback only.

import assert from 'node:assert/strict';
import { mkdtempSync, } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayService, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { httpService } from './gateway-test-kit.ts';
import { connectOutcome, freePort, gatewayWorkerFile, load, next, supervised, until } from './supervisor-test-kit.ts';

/** `alone` has a port of its own (a ProxyListener); `a` and `b` share one (the HostDispatcher). */
const tableOf = (alone: number, shared: number, over: Partial<GatewayService> = {}): GatewayTable => ({
  type: 'table',
  version: GATEWAY_PROTOCOL_VERSION,
  project: 'p',
  services: [
    httpService('alone', alone, 'abcdefabcdef', over),
    httpService('a', shared, 'abcdefabcdef'),
    httpService('b', shared, 'abcdefabcdef'),
  ],
});

const refused = (port: number): Promise<string> => connectOutcome(port);


test('gateway listeners in a cluster worker: a swap refuses nothing, a re-bind serves again, retire closes', { timeout: 120_000 }, async (t: TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bind-'));
  const [alone, shared] = [await freePort(), await freePort()];
  // The replicas: on .2, the ports the gateway listens on at .1 (as in a container).
  const replicas = [alone, shared].map((port) => http.createServer((_req, res) => res.end('ok')).listen(port, '127.0.0.2'));
  process.env['CMESH_TEST_TABLE'] = JSON.stringify(tableOf(alone, shared));
  const v1 = gatewayWorkerFile(dir, 'v1');
  const v2 = gatewayWorkerFile(dir, 'v2');
  const { first, log } = await supervised(t, { dir, initial: v1, replicas, drainMs: 3000 });
  assert.deepEqual(first.m.warnings, [], 'v1 bound every port');
  const calls = [load(alone), load(shared)];
  await until('both ports to serve', 15_000, async () => calls.every((c) => c.seen.length > 10));

  // The swap: v2 binds the same ports while v1 still listens, then v1 drains and leaves.
  const secondReady = next('cmesh-gateway-ready');
  const exited = new Promise((r) => first.worker.once('exit', r));
  first.worker.send({ type: 'test-upgrade', file: v2 });
  const second = await secondReady;
  await exited;
  const atExit = calls.map((c) => c.seen.length);
  await until('calls after v1 left', 15_000, async () => calls.every((c, i) => c.seen.length > atExit[i]! + 10));
  await Promise.all(calls.map((c) => c.stop()));
  const failures = calls.flatMap((c) => c.failures);
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f, (counts.get(f) ?? 0) + 1);
  const byKind = [...counts].map(([kind, n]) => `${n} ${kind}`);
  process.stdout.write(`# swap under load: ${calls.map((c) => c.seen.length).join('+')} answered, failed: ${byKind.join(', ') || 'none'}\n`);
  assert.deepEqual(second.m.warnings, [], `v2 bound every port while v1 listened:\n${log()}`);
  assert.deepEqual(failures, [], 'no call refused or reset across the swap');

  // A re-bind inside one worker (alone's settings changed): the port serves again from the same worker.
  const applied = next('test-applied');
  second.worker.send({ type: 'test-table', table: tableOf(alone, shared, { mesh: { ...httpService('x', alone, 'x').mesh, retries: 1 } }) });
  assert.deepEqual((await applied).m.warnings, [], 'the re-bound port listens again');
  assert.equal(await refused(alone), 'connected');

  // Retire: the last worker holding the ports lets go, so the primary closes them and callers are refused.
  const retired = next('test-retired');
  second.worker.send({ type: 'test-retire' });
  await retired;
  await until('both ports to refuse', 5000, async () => (await refused(alone)) === 'ECONNREFUSED' && (await refused(shared)) === 'ECONNREFUSED');
});
