// A daemon restarted under a running gateway (a crash, an upgrade): callers by name must not notice. The new daemon's
// reconcile pass looks up the gateway context beside its first observation (loop.ts), and until that observation its
// service table knows the services but none of their replicas. A table made from that table emptied every pool of the
// gateway, which then answered `503 no-healthy-replica` until the next table brought the replicas back and its own
// probes rose them (the east-west-gateway-crash e2e's 19 failed keep-alive calls). Here: the daemon's real
// EastWestRuntime, the gateway's real control client and data path, replicas on 127.0.0.2/127.0.0.3, no Docker.

import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { GATEWAY_SOCKET_FILE } from './api/east-west.ts';
import { GATEWAY_PROTOCOL_VERSION, type GatewayTable, gatewayMesh } from './api/gateway-control.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { gatewayTestHome } from './gateway-test-kit.ts';
import { EastWestRuntime } from './gateway-wiring.ts';
import { desired, project, svc } from './reconcile/testing.ts';
import { ControlClient } from '../mesh/gateway/control-client.ts';
import { Gateway } from '../mesh/gateway/gateway.ts';
import { Registry } from '../mesh/registry.ts';
import { freePort } from '../test/helpers/free-port.ts';

const BASE = 'cmesh-test/gateway-base:1';
const dir = gatewayTestHome('cm-gwrestart-', BASE);

/** Failures counted by kind, as the e2e load prints them. */
const summary = (fails: string[]): Record<string, number> => Object.fromEntries([...new Set(fails)].map((f) => [f, fails.filter((x) => x === f).length]));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a restarted daemon sends its gateways no table before it has observed the project: keep-alive callers see no 503', async (t) => {
  const port = await freePort();
  const containers = { '1': 'a'.repeat(64), '2': 'b'.repeat(64) } as const;
  const address: Record<string, string> = { [containers['1']]: '127.0.0.2', [containers['2']]: '127.0.0.3' };
  const servers = await Promise.all(
    Object.values(address).map(async (host) => {
      const s = http.createServer((_req, res) => res.end(host));
      await new Promise<void>((r) => s.listen(port, host, r));
      return s;
    }),
  );
  const abort = new AbortController();
  t.after(async () => {
    abort.abort();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const mesh = { ...svc('web').mesh, protocolExplicit: true, health: { intervalMs: 60_000, timeoutMs: 500, rise: 1, fall: 2 } };
  const d = desired(project('p', [svc('web', { expose: [port], mesh, replicas: 2 })], { eastWest: true }));

  // The gateway serving the old daemon's last table: both replicas healthy.
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async (c) => address[c] ?? '0.0.0.0' });
  const replicas = (['1', '2'] as const).map((n) => ({ id: `web#${n}`, replica: Number(n), container: containers[n], state: 'running' as const, draining: false, healthy: true }));
  const last: GatewayTable = {
    type: 'table',
    version: GATEWAY_PROTOCOL_VERSION,
    project: 'p',
    services: [{ name: 'web', names: ['web'], ports: [{ port, protocol: 'http' }], mesh: gatewayMesh(mesh, port), desired: 2, replicas }],
  };
  await gateway.apply(last);
  // Its listeners (not closed by the abort) would hold the test process open.
  t.after(() => gateway.close());

  // Keep-alive callers by name, all along: every answer that is not a replica's 200 is kept with its cause.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const fails: string[] = [];
  let ok = 0;
  let calling = true;
  const call = (): Promise<void> =>
    new Promise((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent, headers: { host: `web:${port}` } }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) ok++;
            else fails.push(`${res.statusCode} ${String(res.headers['x-cmesh-error'] ?? '')}`);
            resolve();
          });
        })
        .on('error', (e: NodeJS.ErrnoException) => {
          fails.push(e.code ?? e.message);
          resolve();
        });
    });
  const callers = [0, 1].map(async () => {
    while (calling) {
      await call();
      await sleep(2);
    }
  });

  let early: number[] = [];
  try {
    // The new daemon: the project loaded from disk configures its pools, no replica in them yet (mesh-wiring adopt).
    const registry = new Registry({ activeChecks: false });
    registry.configureService('p', { name: 'web', replicas: 2, ports: [{ target: port, protocol: 'tcp' }], mesh });
    const engine = new FakeEngine();
    engine.addImage(BASE);
    const ew = new EastWestRuntime({ home: dir.home, engine, rows: (p) => registry.snapshot({ project: p }), emit: () => undefined, publishMs: 10 });
    t.after(() => ew.close());
    // Its first pass: the context (socket open, table published) while the observation is still under way.
    assert.ok(await ew.context(d), 'the planner gets a gateway context');
    const tables: GatewayTable[] = [];
    let connected = false;
    new ControlClient({
      path: join(ew.hub.socketDir('p'), GATEWAY_SOCKET_FILE),
      signal: abort.signal,
      retryMs: 10,
      onTable: (table) => {
        tables.push(table);
        void gateway.apply(table);
      },
      onState: (up) => (connected ||= up),
    });
    // The gateway finds the new daemon's socket and the observation takes its time (a loaded engine: 100s of ms).
    await sleep(300);
    assert.ok(connected, 'the gateway reconnected to the new daemon');
    early = tables.map((table) => table.services[0]?.replicas.length ?? 0);

    // The observation lands (mesh-wiring's observed): the replicas, not yet probed by this daemon, then the table.
    for (const n of ['1', '2'] as const) {
      registry.upsertReplica({ project: 'p', service: 'web', replica: Number(n), container: containers[n], endpoints: [], state: 'running' });
    }
    ew.observed(d, []);
    const deadline = Date.now() + 3000;
    while (tables.length === early.length && Date.now() < deadline) await sleep(5);
    assert.equal(tables.length, early.length + 1, 'the table follows the observation');
    assert.deepEqual(
      tables.at(-1)!.services[0]!.replicas.map((r) => [r.id, r.healthy]),
      [
        ['web#1', false],
        ['web#2', false],
      ],
      "this daemon's probes have not run yet",
    );
    // …which the gateway takes without giving up its own health of replicas it already serves.
    await sleep(200);
  } finally {
    calling = false;
    await Promise.all(callers);
    agent.destroy();
  }
  assert.deepEqual(summary(fails), {}, `keep-alive callers: no failed call (${ok} answered)`);
  assert.ok(ok > 20, `callers ran (${ok} answered)`);
  assert.deepEqual(early, [], 'no table before the observation (one made then names no replica of any service)');
});
