// The east-west load scripts say "load started" at their first answer, not before their first call is answered:
// loadStarted() lets a test act inside the load, which has not begun while every call still waits or fails. Run here
// with node against a loopback server that holds its answers until the test lets them go. A failed call is keyed by its
// status and the gateway's `x-cmesh-error`, so an e2e failure says which 503 it was.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { keepAliveLoad, mixedLoad } from './east-west.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const [name, script] of [
  ['keepAliveLoad', (port: number) => keepAliveLoad('127.0.0.1', port, 1_500)],
  ['mixedLoad', (port: number) => mixedLoad('127.0.0.1', port, 1_500)],
] as const) {
  test(`${name} prints "load started" once, when the first answer came`, { timeout: 20_000 }, async () => {
    let held: ServerResponse[] | undefined = [];
    let answeredAt = 0;
    const server = createServer((_req, res) => {
      if (held) held.push(res);
      else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['-e', script((server.address() as AddressInfo).port)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines: { line: string; at: number }[] = [];
      let rest = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        const parts = (rest + d).split('\n');
        rest = parts.pop()!;
        for (const line of parts) lines.push({ line, at: Date.now() });
      });
      const exited = new Promise<number | null>((r) => child.on('close', r));
      for (let i = 0; i < 50 && (held?.length ?? 0) === 0; i++) await sleep(20);
      assert.ok(held!.length > 0, 'the load is calling');
      await sleep(300);
      assert.equal(lines.map((l) => l.line).join('\n'), '', 'nothing printed while no call has been answered');
      answeredAt = Date.now();
      for (const res of held!) res.end('ok');
      held = undefined;
      assert.equal(await exited, 0);
      const started = lines.filter((l) => l.line === 'load started');
      assert.equal(started.length, 1);
      assert.ok(started[0]!.at >= answeredAt, 'printed after the first answer');
      const result = JSON.parse(lines.at(-1)!.line) as { ok?: number; keepAlive?: { ok: number } };
      assert.ok((result.ok ?? result.keepAlive?.ok ?? 0) > 0, 'the load went on after its first answer');
    } finally {
      child.kill();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
}

for (const [name, script, fails] of [
  ['keepAliveLoad', (port: number) => keepAliveLoad('127.0.0.1', port, 300), (r: unknown) => (r as { fails: Record<string, number> }).fails],
  ['mixedLoad', (port: number) => mixedLoad('127.0.0.1', port, 300), (r: unknown) => (r as { keepAlive: { fails: Record<string, number> } }).keepAlive.fails],
] as const) {
  test(`${name} keys a failure by its status and the gateway's x-cmesh-error, when there is one`, { timeout: 20_000 }, async () => {
    // One answer in three: the gateway's own 503 (tagged), then a replica's 503 (untagged), then a 200.
    let n = 0;
    const server = createServer((_req, res) => {
      const k = n++ % 3;
      if (k === 0) res.writeHead(503, { 'x-cmesh-error': 'no-healthy-replica' }).end('cmesh: no healthy replica');
      else if (k === 1) res.writeHead(503).end('busy');
      else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['-e', script((server.address() as AddressInfo).port)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      assert.equal(await new Promise<number | null>((r) => child.on('close', r)), 0);
      const got = fails(JSON.parse(out.trim().split('\n').at(-1)!));
      assert.deepEqual(Object.keys(got).sort(), ['http 503', 'http 503 no-healthy-replica']);
      assert.ok(got['http 503 no-healthy-replica']! > 0 && got['http 503']! > 0);
    } finally {
      child.kill();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
}
