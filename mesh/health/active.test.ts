// Active checks against real loopback servers: rise/fall on 200↔503, refused, hung (timeout), TCP, abort, no leaks.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthProbe } from '../../daemon/api/project.ts';
import { ActiveChecker, type ActiveTransition, FIRST_RISE_CONFIRM_MS } from './active.ts';
import { probeOnce } from './probe.ts';

const fast: HealthProbe = { path: '/healthz', intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 };
const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen<S extends net.Server>(s: S): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as net.AddressInfo).port;
}

/** An HTTP server whose status we flip; counts requests and open connections. */
async function flipServer() {
  const st = { status: 200, requests: 0 };
  const s = http.createServer((req, res) => {
    st.requests++;
    res.writeHead(req.url === '/healthz' ? st.status : 404).end('x');
  });
  const port = await listen(s);
  return { st, s, port };
}

/** Resolves when `pred` holds, failing after `ms` (bounded polling, never an open loop). */
async function until(pred: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function checker(probe: HealthProbe = fast) {
  const ac = new AbortController();
  const seen: ActiveTransition[] = [];
  const probes: { id: string; ok: boolean; reason: string }[] = [];
  const c = new ActiveChecker(
    probe,
    { onTransition: (t) => seen.push(t), onProbe: (id, r) => probes.push({ id, ...r }) },
    { signal: ac.signal },
  );
  return { c, ac, seen, probes };
}

describe('active health', () => {
  it('starts unhealthy, rises after 2 passes, falls after 2 × 503, rises again', async () => {
    const { st, port } = await flipServer();
    const { c, ac, seen } = checker();
    c.add({ id: 'web#1', port });
    assert.equal(c.healthy('web#1'), false);
    await until(() => c.healthy('web#1'), 2000, 'rise');
    assert.match(seen[0]!.reason, /2 passing probes \(http 200\)/);
    st.status = 503;
    await until(() => !c.healthy('web#1'), 2000, 'fall');
    assert.deepEqual(seen[1], { id: 'web#1', healthy: false, reason: '2 failing probes: http 503' });
    st.status = 302;
    await until(() => c.healthy('web#1'), 2000, 'rise again');
    ac.abort();
  });

  it('a closed server fails with ECONNREFUSED', async () => {
    const { s, port } = await flipServer();
    const { c, ac, seen } = checker();
    c.add({ id: 'web#1', port });
    await until(() => c.healthy('web#1'), 2000, 'rise');
    s.close();
    s.closeAllConnections();
    await until(() => !c.healthy('web#1'), 2000, 'fall');
    assert.match(seen[1]!.reason, /ECONNREFUSED/);
    ac.abort();
  });

  it('a server that never answers times out, with one probe in flight at a time and no leaked sockets', async () => {
    let open = 0;
    let maxOpen = 0;
    let total = 0;
    const hung = net.createServer((sock) => {
      total++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      // Read (and drop) so the server notices the prober's FIN; a paused socket would never report close.
      sock.resume();
      sock.on('close', () => {
        open--;
      });
    });
    const port = await listen(hung);
    const { c, ac, probes } = checker({ path: '/', intervalMs: 10, timeoutMs: 100, rise: 1, fall: 1 });
    c.add({ id: 'web#1', port });
    await until(() => probes.length >= 3, 3000, 'three timeouts');
    assert.ok(probes.every((p) => !p.ok && p.reason === 'timeout after 100ms'));
    assert.equal(maxOpen, 1, 'more than one probe in flight');
    ac.abort();
    // The prober destroyed every socket it opened: the server sees them all close.
    await until(() => open === 0, 2000, 'sockets closed');
    assert.ok(total >= 3);
  });

  it("probes in flight never hang on the checker's signal; removing a replica ends its probe", async () => {
    let open = 0;
    const hung = net.createServer((sock) => {
      open++;
      sock.resume();
      sock.on('close', () => open--);
    });
    const port = await listen(hung);
    const { c, ac } = checker({ path: '/', intervalMs: 10, timeoutMs: 5000, rise: 1, fall: 1 });
    const ids = Array.from({ length: 20 }, (_, i) => `web#${i + 1}`);
    for (const id of ids) c.add({ id, port });
    await until(() => open === ids.length, 3000, 'every probe in flight');
    // The checker's own listener only: a listener per probe on a signal as long-lived as the daemon adds up.
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    for (const id of ids) c.remove(id);
    await until(() => open === 0, 2000, 'removed replicas stop their probes at once');
    c.close();
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'a closed checker lets go of the signal');
  });

  it('TCP probe when there is no path', async () => {
    const s = net.createServer((sock) => sock.end());
    const port = await listen(s);
    const { c, ac, seen } = checker({ intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 });
    c.add({ id: 'db#1', port });
    await until(() => c.healthy('db#1'), 2000, 'tcp rise');
    assert.match(seen[0]!.reason, /tcp connect/);
    s.close();
    await until(() => !c.healthy('db#1'), 2000, 'tcp fall');
    ac.abort();
  });

  it('stops probing on abort and on remove; a replaced container starts unhealthy again', async () => {
    const { st, port } = await flipServer();
    const { c, ac } = checker();
    c.add({ id: 'web#1', port, generation: 'c1' });
    await until(() => c.healthy('web#1'), 2000, 'rise');
    c.add({ id: 'web#1', port, generation: 'c1' });
    assert.equal(c.healthy('web#1'), true, 'same container keeps its health');
    c.add({ id: 'web#1', port, generation: 'c2' });
    assert.equal(c.healthy('web#1'), false, 'a new container must earn health');
    await until(() => c.healthy('web#1'), 2000, 'rise of the new container');
    c.remove('web#1');
    const afterRemove = st.requests;
    await sleep(150);
    assert.ok(st.requests <= afterRemove + 1);
    c.add({ id: 'web#2', port });
    await until(() => st.requests > afterRemove + 1, 2000, 'web#2 probed');
    ac.abort();
    const afterAbort = st.requests;
    await sleep(150);
    assert.ok(st.requests <= afterAbort + 1, 'still probing after abort');
    c.add({ id: 'web#3', port });
    assert.equal(c.healthy('web#3'), false);
  });

  it('a joining replica: probes every FIRST_RISE_INTERVAL_MS while it fails, and its confirming probe follows a pass at once', async () => {
    // Spacing is judged against a reference timer ticking every FIRST_RISE_CONFIRM_MS over the same span, so a loaded
    // host that delays every timer alike does not change the verdict (the old 200 ms confirm spacing is 8 ticks).
    const { st, port } = await flipServer();
    st.status = 503;
    const { c, ac, probes } = checker({ path: '/healthz', intervalMs: 10_000, timeoutMs: 500, rise: 2, fall: 2 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, FIRST_RISE_CONFIRM_MS);
    try {
      c.add({ id: 'web#1', port });
      await until(() => probes.length >= 3, 3000, 'three failing probes');
      const failingFrom = ticks;
      await until(() => probes.length >= 6, 3000, 'three more failing probes');
      // 3 probes at FIRST_RISE_INTERVAL_MS (4 ticks each) is 12 ticks, not the 10 s interval.
      assert.ok(ticks - failingFrom <= 24, `failing probes of a joining replica ${ticks - failingFrom} ticks apart for 3`);
      st.status = 200;
      await until(() => probes.some((p) => p.ok), 3000, 'a first pass');
      const passedAt = ticks;
      await until(() => c.healthy('web#1'), 3000, 'rise');
      assert.ok(ticks - passedAt <= 3, `the confirming probe came ${ticks - passedAt} ticks of ${FIRST_RISE_CONFIRM_MS} ms after the first pass`);
    } finally {
      clearInterval(ticker);
      ac.abort();
    }
  });

  it('probeOnce: 404 fails, 204 passes, an aborted signal fails at once', async () => {
    const { port } = await flipServer();
    assert.deepEqual(await probeOnce({ host: '127.0.0.1', port, path: '/nope', timeoutMs: 500 }), { ok: false, reason: 'http 404' });
    assert.equal((await probeOnce({ host: '127.0.0.1', port, path: 'healthz', timeoutMs: 500 })).ok, true);
    assert.deepEqual(await probeOnce({ host: '127.0.0.1', port, path: '/', timeoutMs: 500, signal: AbortSignal.abort() }), {
      ok: false,
      reason: 'aborted',
    });
  });
});
