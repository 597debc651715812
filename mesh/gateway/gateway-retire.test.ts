// A retiring gateway worker's close is its listening socket's last (shared-sockets.ts): closing a listening socket
// resets the connections the kernel completed but nobody accepted yet (their callers already sent a request and get
// ECONNRESET), so the socket must not stay open, unaccepted, after the worker let go. Real sockets: the test process is
// the cluster primary running the real supervisor, its worker runs the real Gateway (supervisor-test-kit.ts); loopback
// only; bounded in count and time. How many resets are left at a retire under load: bench/gateway-retire-resets.ts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { next, startedGateway } from './gateway-retire-kit.ts';
import { RELEASE } from './shared-sockets.ts';

/** From another process: connect after `delayMs`, send a request; what came of it (ECONNREFUSED, answered, stalled…). */
const callLater = (port: number, delayMs: number): string =>
  spawnSync(
    process.execPath,
    [
      '-e',
      `setTimeout(() => { const s = require('net').connect(${port}, '127.0.0.1');
        s.on('connect', () => { s.write('GET / HTTP/1.1\\r\\nHost: web\\r\\n\\r\\n'); setTimeout(() => { process.stdout.write('stalled'); process.exit(0); }, 1000); });
        s.on('data', () => { process.stdout.write('answered'); process.exit(0); });
        s.on('error', (e) => { process.stdout.write(e.code); process.exit(0); }); }, ${delayMs});`,
    ],
    { encoding: 'utf8', timeout: 10_000 },
  ).stdout;

test('a retiring worker closes its listening socket itself: refused at once, even while the supervisor is busy', { timeout: 60_000 }, async (t: TestContext) => {
  const { port, worker } = await startedGateway((c) => t.after(c));
  // This process is the supervisor. Right after it handled the worker's release (its listener runs after the
  // supervisor's), it blocks for the child's whole call: a socket it still held open would take the child's connection
  // into a queue nobody accepts from (reset when the supervisor closes it at last), instead of refusing it.
  let during = '';
  worker.on('message', (m: { type?: string }) => {
    if (m?.type === RELEASE) during = callLater(port, 600);
  });
  const retired = next('test-retired');
  worker.send({ type: 'test-retire' });
  await retired;
  assert.equal(during, 'ECONNREFUSED', 'the worker let go: nothing holds the socket open');
});
