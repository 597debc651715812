// The proxy benchmark's load side (bench/proxy.ts): wrk's closed loop with its latency percentiles, the open-loop
// client its child mode runs for fixed-rate latency, and the wait for a server to listen.

import { type ChildProcess, execFileSync } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../test/helpers/free-port.ts';
import { type Latency, PATH, startReplica } from './proxy-peers.ts';
import { parseWrk } from './wrk.ts';

/** The first 2 s of an open loop are warm-up and not counted. */
export const WARMUP_S = 2;

/** How a command is run on the client's CPU when pinning is on (bench/proxy.ts --pin). */
export type Pin = (cmd: string, cmdArgs: string[]) => [string, string[]];

export async function waitPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => r(true)).on('error', () => r(false));
      s.once('connect', () => s.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

export interface WrkLatencyResult {
  rps: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

export function wrk(port: number, seconds: number, pin: Pin): WrkLatencyResult {
  const out = execFileSync(...pin('wrk', ['-t1', '-c64', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${PATH}`]), { encoding: 'utf8' });
  const r = parseWrk(out);
  return { rps: r.rps, requests: r.requests, errors: r.errors, p50: r.p50Ms, p99: r.p99Ms };
}

/**
 * Child mode: open-loop load. Request i is due at start + i/rate; each tick sends every request that is due (on up to
 * 64 keep-alive connections, queueing in the client when all are busy) and its latency counts from the due time, so
 * a stall shows up in the percentiles instead of silently lowering the rate (no coordinated omission).
 */
/** `target` is `host:port`: loopback, or a replica's own address on the bench project's network. */
export async function openLoop(target: string, rate: number, seconds: number): Promise<void> {
  const { Pool } = await import('undici');
  // Bounded in time: a request unanswered for 10 s counts as an error instead of holding the run.
  const pool = new Pool(`http://${target}`, { connections: 64, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000, connectTimeout: 10_000 });
  // The first 2 s are warm-up and not counted: a fresh client process opens its 64 connections and JIT-compiles
  // its own request path then, which put tens of ms into every path's p99 (direct included) before this.
  const warm = Math.round(rate * WARMUP_S);
  const total = warm + Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let errors = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const fire = (i: number, due: number): void => {
      pool.request({ path: PATH, method: 'GET' }).then(
        async (r) => {
          await r.body.dump();
          if (r.statusCode !== 200) errors++;
          latencies[i] = performance.now() - due;
        },
        () => {
          errors++;
          latencies[i] = performance.now() - due;
        },
      ).finally(() => {
        if (++done === total) resolve();
      });
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) {
        fire(sent, start + (sent * 1000) / rate);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  await pool.close();
  const sorted = Array.from(latencies.subarray(warm)).sort((a, b) => a - b);
  const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000) / 1000;
  process.stdout.write(JSON.stringify({ p50: at(0.5), p99: at(0.99), errors, sent: sent - warm } satisfies Latency));
}

/** Three echo replicas on free 127.0.0.1 ports, listening when this returns; their processes go into `children`. */
export async function startEchoReplicas(children: ChildProcess[]): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    children.push(startReplica('127.0.0.1', port, `echo#${i + 1}`));
    ports.push(port);
  }
  for (const p of ports) await waitPort(p, 15_000);
  return ports;
}
