// A port the gateway could not bind is tried again within milliseconds, not at the next 2 s refresh: on the shared
// gateway an address one project left can come back to another project before the first one's listener has closed.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, mock, test } from 'node:test';
import { freePort } from '../../test/helpers/free-port.ts';
import { BindRetry } from './bind-retry.ts';
import { Gateway } from './gateway.ts';
import { becomes, call, replicaService, sharedTable } from './shared-gateway-test-kit.ts';

const abort = new AbortController();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  abort.abort();
  for (const c of closers) await c();
});

test('a port held by the last owner of an address is bound once it lets go, long before the refresh', async () => {
  const port = await freePort();
  const web = await replicaService('web', port, '127.0.0.71', closers);
  // The listener of the project that had .73 before: still open for a moment.
  const previous = net.createServer();
  await new Promise<void>((r) => previous.listen(port, '127.0.0.73', r));
  const gateway = new Gateway({ signal: abort.signal, hosts: ['127.0.0.72', '127.0.0.73'], refreshMs: 60_000 });
  closers.unshift(() => gateway.close());
  await gateway.apply(sharedTable('p', [web]));
  assert.deepEqual(gateway.serving(), [], 'not bound on .73 yet');
  await new Promise<void>((r) => previous.close(() => r()));
  await becomes('a GET on .73', '200 web@127.0.0.71', () => call('127.0.0.73', port), 1500);
  assert.deepEqual(gateway.serving(), ['web'], 'bound without waiting for the 60 s refresh');
  assert.deepEqual(gateway.warnings(), []);
});

test('BindRetry: 50 ms doubling while binds fail, none past the refresh period, reset once all are bound', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const at: number[] = [];
    let now = 0;
    const retry = new BindRetry({ refreshMs: 500, retry: () => at.push(now) });
    const advance = (ms: number): void => {
      now += ms;
      mock.timers.tick(ms);
    };
    retry.settled(false);
    retry.settled(false); // one retry at a time
    for (let i = 0; i < 200; i += 1) {
      advance(10);
      if (at.length > 0 && at.at(-1) === now) retry.settled(false);
    }
    advance(2000);
    assert.deepEqual(at, [50, 150, 350, 750], '50, 100, 200, 400 ms apart; the next (800 ms) would be past the refresh');
    retry.settled(true);
    retry.settled(false);
    advance(50);
    assert.equal(at.at(-1), now, 'back to 50 ms after a sync that bound everything');
    retry.stop();
    retry.settled(false);
    advance(2000);
    assert.equal(at.length, 5, 'nothing after stop()');
  } finally {
    mock.timers.reset();
  }
});
