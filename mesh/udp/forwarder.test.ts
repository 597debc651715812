// The UDP forwarder against real dgram sockets on 127.0.0.1: echo, per-source affinity, idle expiry, the session cap,
// moving sessions when a replica leaves or changes address, drops, and bind errors.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, test, type TestContext } from 'node:test';
import { CmeshError } from '../../daemon/api/errors.ts';
import { eventually } from '../../test/helpers/eventually.ts';
import type { PickContext } from '../balancer/types.ts';
import type { AttemptOutcome, Upstream } from '../upstream-pool.ts';
import { type DatagramPool, UdpForwarder, type UdpForwarderOptions } from './forwarder.ts';

/** Round-robin over the upstreams not marked down; `current` answers only for those. */
class RoundRobinPool implements DatagramPool {
  readonly service = 'dns';
  readonly down = new Set<string>();
  readonly results: { id: string; outcome: AttemptOutcome }[] = [];
  #next = 0;
  constructor(public upstreams: Upstream[]) {}
  pick(_ctx?: PickContext): Upstream | undefined {
    const up = this.upstreams.filter((u) => !this.down.has(u.id));
    return up.length === 0 ? undefined : up[this.#next++ % up.length];
  }
  current(id: string): Upstream | undefined {
    return this.down.has(id) ? undefined : this.upstreams.find((u) => u.id === id);
  }
  onResult(id: string, _latencyMs: number, outcome: AttemptOutcome): void {
    this.results.push({ id, outcome });
  }
}

/** A replica: answers every datagram with `<id>:<payload>` to whoever sent it. */
async function echo(t: TestContext, id: string): Promise<Upstream & { socket: dgram.Socket }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, r) => socket.send(`${id}:${msg.toString()}`, r.port, r.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => closeQuietly(socket));
  return { id, host: '127.0.0.1', port: socket.address().port, socket };
}

function closeQuietly(s: dgram.Socket): void {
  try {
    s.close();
  } catch {
    // closed by the test already
  }
}

/** A client socket with its own source port: `ask` sends one datagram and waits for one reply. */
async function client(t: TestContext, port: number) {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => closeQuietly(socket));
  const ask = async (text: string, timeoutMs = 2000): Promise<string> => {
    const reply = once(socket, 'message', { signal: AbortSignal.timeout(timeoutMs) });
    socket.send(text, port, '127.0.0.1');
    const [msg] = (await reply) as [Buffer];
    return msg.toString();
  };
  /** Sends and expects silence for `ms` (a dropped datagram). */
  const silent = async (text: string, ms = 150): Promise<boolean> => {
    let got = false;
    const on = () => {
      got = true;
    };
    socket.on('message', on);
    socket.send(text, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, ms));
    socket.off('message', on);
    return !got;
  };
  return { ask, silent };
}

async function forwarder(t: TestContext, pool: DatagramPool, o: Partial<UdpForwarderOptions> = {}) {
  const f = new UdpForwarder({ service: 'dns', pool, idleMs: 60_000, ...o });
  const at = await f.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => f.close());
  return { f, port: at.port };
}

describe('udp forwarder', { timeout: 30_000 }, () => {
  test('echoes through the bound port and keeps each client on one replica (per-source affinity)', async (t) => {
    const pool = new RoundRobinPool([await echo(t, 'dns#1'), await echo(t, 'dns#2')]);
    const { f, port } = await forwarder(t, pool);
    const a = await client(t, port);
    const b = await client(t, port);
    const fromA = new Set<string>();
    const fromB = new Set<string>();
    for (let i = 0; i < 5; i++) {
      fromA.add((await a.ask(`a${i}`)).split(':')[0]!);
      fromB.add((await b.ask(`b${i}`)).split(':')[0]!);
    }
    // Round-robin would alternate per datagram; sessions pin each client to the replica of its first datagram.
    assert.deepEqual([...fromA], ['dns#1']);
    assert.deepEqual([...fromB], ['dns#2']);
    assert.equal(await a.ask('hello'), 'dns#1:hello');
    const s = f.stats();
    assert.equal(s.sessions, 2);
    assert.equal(s.sessionsTotal, 2);
    assert.equal(s.datagramsIn, 11);
    assert.equal(s.datagramsOut, 11);
    assert.equal(s.bytesIn, 5 * 2 + 5 * 2 + 5);
    assert.equal(s.bytesOut, 11 * 'dns#1:'.length + 5 * 2 + 5 * 2 + 5);
  });

  test('an idle session expires; the next datagram opens a new one with a fresh pick', async (t) => {
    const pool = new RoundRobinPool([await echo(t, 'dns#1'), await echo(t, 'dns#2')]);
    const { f, port } = await forwarder(t, pool, { idleMs: 100 });
    const a = await client(t, port);
    assert.equal(await a.ask('x'), 'dns#1:x');
    // Activity within the idle period keeps it.
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await a.ask('y'), 'dns#1:y');
    await eventually(() => f.stats().sessions === 0, 'the idle session to expire', 2000);
    assert.equal(f.stats().expired, 1);
    assert.equal(await a.ask('z'), 'dns#2:z');
    assert.equal(f.stats().sessionsTotal, 2);
  });

  test('the session cap evicts the least recently active session', async (t) => {
    const pool = new RoundRobinPool([await echo(t, 'dns#1')]);
    const { f, port } = await forwarder(t, pool, { maxSessions: 2 });
    const [a, b, c] = [await client(t, port), await client(t, port), await client(t, port)];
    await a.ask('1');
    await b.ask('1');
    await a.ask('2'); // a is now more recent than b
    await c.ask('1'); // evicts b
    assert.deepEqual({ sessions: f.stats().sessions, evicted: f.stats().evicted, total: f.stats().sessionsTotal }, { sessions: 2, evicted: 1, total: 3 });
    await a.ask('3'); // a kept its session
    assert.equal(f.stats().sessionsTotal, 3);
    await b.ask('2'); // b needs a new one, evicting c
    assert.deepEqual({ sessions: f.stats().sessions, evicted: f.stats().evicted, total: f.stats().sessionsTotal }, { sessions: 2, evicted: 2, total: 4 });
  });

  test('a session moves on its next datagram when its replica leaves or changes address', async (t) => {
    const one = await echo(t, 'dns#1');
    const two = await echo(t, 'dns#2');
    const pool = new RoundRobinPool([one, two]);
    const { f, port } = await forwarder(t, pool);
    const a = await client(t, port);
    assert.equal(await a.ask('x'), 'dns#1:x');
    pool.down.add('dns#1'); // drained / ejected / scaled away
    assert.equal(await a.ask('y'), 'dns#2:y');
    assert.equal(await a.ask('z'), 'dns#2:z');
    assert.equal(f.stats().moved, 1);
    // The same replica id recreated on another host port (a new container): the session follows the new address.
    const twoAgain = await echo(t, 'dns#2');
    pool.upstreams = [{ id: 'dns#2', host: '127.0.0.1', port: twoAgain.port }];
    closeQuietly(two.socket);
    assert.equal(await a.ask('w'), 'dns#2:w');
    assert.equal(f.stats().moved, 2);
    assert.equal(f.stats().sessions, 1);
  });

  test('with no replica the datagram is dropped and counted; closeUpstream ends that replica\'s sessions', async (t) => {
    const pool = new RoundRobinPool([await echo(t, 'dns#1')]);
    const { f, port } = await forwarder(t, pool);
    const a = await client(t, port);
    assert.equal(await a.ask('x'), 'dns#1:x');
    f.closeUpstream('dns#1');
    assert.equal(f.stats().sessions, 0);
    pool.down.add('dns#1');
    assert.ok(await a.silent('lost'));
    assert.equal(f.stats().dropped, 1);
    pool.down.clear();
    assert.equal(await a.ask('back'), 'dns#1:back');
  });

  test('a replica port with nothing listening ends the session and counts against the replica', async (t) => {
    const gone = await echo(t, 'dns#1');
    closeQuietly(gone.socket);
    const pool = new RoundRobinPool([{ id: 'dns#1', host: '127.0.0.1', port: gone.port }]);
    const { f, port } = await forwarder(t, pool);
    const a = await client(t, port);
    assert.ok(await a.silent('anyone?'));
    await eventually(() => pool.results.length > 0, 'the ICMP port-unreachable to reach the session', 2000);
    assert.deepEqual(pool.results[0], { id: 'dns#1', outcome: 'connect-error' });
    assert.equal(f.stats().sessions, 0);
  });

  test('a taken port is CMESH_E_PORT_TAKEN naming host:port/udp; close is idempotent', async (t) => {
    const pool = new RoundRobinPool([]);
    const { f, port } = await forwarder(t, pool);
    const second = new UdpForwarder({ service: 'dns', pool, idleMs: 1000 });
    await assert.rejects(second.listen({ host: '127.0.0.1', port }), (err: unknown) => {
      assert.ok(err instanceof CmeshError);
      assert.equal(err.code, 'CMESH_E_PORT_TAKEN');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}/udp`));
      return true;
    });
    await f.close();
    await f.close();
    // The port is free again once closed.
    await second.listen({ host: '127.0.0.1', port });
    await second.close();
  });
});
