// What the retire tests and bench/gateway-retire-resets.ts share: this process is the cluster primary running the real
// supervisor, its one worker the real Gateway (supervisor-test-kit.ts) with `web` on a loopback port of its own.

import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATEWAY_PROTOCOL_VERSION, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { httpService } from './gateway-test-kit.ts';
import { runSupervisor } from './supervisor.ts';
import { freePort, gatewayWorkerFile } from './supervisor-test-kit.ts';

/** Fresh-connection callers per load (each one connection at a time, no pause). */
export const CALLERS = 24;

/** The next message of this type from any worker. */
export const next = (type: string): Promise<{ worker: Worker; m: { warnings?: string[] } }> =>
  new Promise((resolve) => {
    const on = (worker: Worker, m: { type?: string; warnings?: string[] }) => {
      if (m?.type !== type) return;
      cluster.off('message', on);
      resolve({ worker, m });
    };
    cluster.on('message', on);
  });

/** Fresh-connection callers until stopped (at most `maxMs`): a refused connect is expected once retired, a reset is not. */
export function freshLoad(port: number, maxMs = 20_000): { ok: () => number; refused: () => number; other: string[]; stop(): Promise<void> } {
  let ok = 0;
  let refused = 0;
  const other: string[] = [];
  let running = true;
  const call = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 3000 }, (res) => {
        res.resume();
        res.on('end', () => {
          ok++;
          resolve();
        });
        res.on('error', (e: NodeJS.ErrnoException) => {
          other.push(`response: ${e.code ?? e.message}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') refused++;
        else other.push(e.code ?? e.message);
        resolve();
      });
    });
  const callers = Promise.all(
    Array.from({ length: CALLERS }, async () => {
      const end = Date.now() + maxMs;
      while (running && Date.now() < end) {
        const before = refused;
        await call();
        // Refused: the port is closed, nothing to learn from hammering it.
        if (refused > before) await new Promise((r) => setTimeout(r, 5));
      }
    }),
  );
  return {
    ok: () => ok,
    refused: () => refused,
    other,
    stop: async () => {
      running = false;
      await callers;
    },
  };
}

/** A supervisor (this process) whose one worker runs the real Gateway with `web` on a port of its own. */
export async function startedGateway(after: (cleanup: () => Promise<void>) => void): Promise<{ port: number; worker: Worker }> {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-retire-'));
  const port = await freePort();
  const replica = http.createServer((_req, res) => res.end('ok')).listen(port, '127.0.0.2');
  const table: GatewayTable = { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services: [httpService('web', port, 'abcdefabcdef')] };
  process.env['CMESH_TEST_TABLE'] = JSON.stringify(table);
  let out = '';
  const ready = next('cmesh-gateway-ready');
  const supervisor = runSupervisor({ initial: gatewayWorkerFile(dir, 'v1'), drainMs: 3000, log: (l) => (out += `${l}\n`) });
  after(async () => {
    await supervisor.stop();
    replica.close();
    rmSync(dir, { recursive: true, force: true });
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
  });
  const { worker, m } = await ready;
  assert.deepEqual(m.warnings, []);
  return { port, worker };
}
