// Fuzzes the control API's POST routes in-process: the real daemon (router, project manager, reconcile loops) on a
// temp unix socket, the fake engine underneath, thousands of malformed bodies from fast-check. Every answer must be
// a typed error (400 CMESH_E_DAEMON_PROTOCOL for a malformed body, naming the field) or, for a body that happens to
// be valid, the route's normal outcome; never a daemon bug, a hang, an unhandled rejection or growing memory.
// CMESH_FUZZ_BODIES / CMESH_FUZZ_SEED replay a run.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { SerializedError } from './api/errors.ts';
import { type RunningDaemon, startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { resolveHome } from './home.ts';
import { project, svc } from './reconcile/testing.ts';

const BODIES = Number(process.env['CMESH_FUZZ_BODIES'] ?? 5000);
const SEED = Number(process.env['CMESH_FUZZ_SEED'] ?? 0x19c0de);
const REQUEST_TIMEOUT_MS = 15_000;
const CHUNK = 100;

const shop = project('shop', [svc('web', { replicas: 2 }), svc('db')]);

/** A valid body per POST route: the seeds the mutations start from. */
const VALID: Record<string, unknown> = {
  up: { project: shop, services: [], build: 'auto', wait: false },
  build: { project: shop, services: ['web'], noCache: false },
  sync: { service: 'web', files: [{ path: '/nonexistent/cmesh-fuzz/gone.txt', containerPath: '/app/gone.txt', kind: 'unlink' }], restart: false },
  down: { volumes: false, removeOrphans: false },
  scale: { services: { web: 2 } },
  stop: { services: ['db'] },
  start: { services: ['db'] },
  restart: { services: ['db'], timeoutMs: 1000 },
  kill: { service: 'web', replica: 1 },
  drain: { service: 'web', replica: 1, drained: false },
};
const ROUTES = Object.keys(VALID);
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

type Path = (string | number)[];
/** What the daemon must answer: `protocol` = 400 CMESH_E_DAEMON_PROTOCOL (naming `path` when given); `any` = no bug. */
interface Case {
  route: string;
  text: string;
  expect: 'protocol' | 'any';
  path?: Path;
  why: string;
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function leaves(value: unknown, path: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [path];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [path, ...entries.flatMap(([k, v]) => leaves(v, [...path, k]))];
}

function clone(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function at(root: unknown, path: Path): { parent: Record<string | number, unknown>; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  let node = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  return { parent: node, key: path.at(-1)! };
}

function valueAt(root: unknown, path: Path): unknown {
  const slot = at(root, path);
  return slot ? slot.parent[slot.key] : root;
}

/** Paths of the objects (not arrays) in a body, the root included: where keys can be added or removed. */
function objectPaths(root: unknown): Path[] {
  return leaves(root).filter((p) => kind(valueAt(root, p)) === 'object');
}

/** The dotted form the daemon uses in messages: `project.services.web.ports[0]`, odd keys quoted. */
function dotted(path: Path): string {
  const out = path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[\w-]+$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
  return out === '' ? 'body' : out.replace(/^\./, '');
}

// Values of every JSON type, some of them huge (strings up to 2 MiB, well within the 16 MiB body cap).
const hugeString = fc.constantFrom(64 * 1024, 512 * 1024, 2 * 1024 * 1024).map((n) => 'x'.repeat(n));
const anyValue = fc.oneof(
  { weight: 20, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.constantFrom(-1, 0, 1.5, 1e308, -0, 2 ** 53, '', 'web', '../../etc', true, null, [], {}) },
  { weight: 1, arbitrary: hugeString },
);

/** A valid body with one leaf replaced by a value of another JSON type: certainly malformed, at a known path. */
function wrongType(route: string): fc.Arbitrary<Case> {
  const seed = VALID[route];
  const paths = leaves(seed);
  return fc.tuple(fc.constantFrom(...paths), anyValue).map(([path, value]) => {
    const body = clone(seed);
    const slot = at(body, path);
    const original = valueAt(body, path);
    // Same type would not be a certain error (a string for a string); make it a different one.
    const replacement = kind(value) === kind(original) ? (typeof original === 'string' ? 7 : 'seven') : value;
    if (slot) slot.parent[slot.key] = replacement;
    const text = JSON.stringify(slot ? body : replacement);
    return { route, text, expect: 'protocol', path, why: `wrong type at ${dotted(path)}` } satisfies Case;
  });
}

/** A valid body with a key deleted, a stray key added, or an array element duplicated: may or may not stay valid. */
function mutated(route: string): fc.Arbitrary<Case> {
  const seed = VALID[route];
  const objects = objectPaths(seed);
  const keys = fc.oneof(fc.constantFrom('services', 'project', 'replica', 'name', 'extra', 'wait', 'scale', 'files'), fc.string({ maxLength: 12 }));
  return fc.tuple(fc.constantFrom(...objects), fc.integer({ min: 0, max: 2 }), keys, anyValue).map(([path, op, key, value]) => {
    const body = clone(seed);
    const target = valueAt(body, path) as Record<string, unknown>;
    const existing = Object.keys(target);
    if (op === 0 && existing.length > 0) delete target[existing[key.length % existing.length]!];
    else if (op === 1) target[key] = value;
    else target[existing[0] ?? key] = value;
    return { route, text: JSON.stringify(body), expect: 'any', why: `mutated at ${dotted(path)}` } satisfies Case;
  });
}

/** A prototype key planted somewhere in a valid body: always refused, whatever its value. */
function pollution(route: string): fc.Arbitrary<Case> {
  const seed = VALID[route];
  const objects = objectPaths(seed);
  return fc.tuple(fc.constantFrom(...objects), fc.constantFrom(...FORBIDDEN), anyValue).map(([path, key, value]) => {
    const body = clone(seed);
    const target = valueAt(body, path) as Record<string, unknown>;
    // defineProperty: a plain assignment of __proto__ would set the prototype instead of making a key.
    Object.defineProperty(target, key, { value: { polluted: value }, enumerable: true, configurable: true, writable: true });
    return { route, text: JSON.stringify(body), expect: 'protocol', path: [...path, key], why: `${key} at ${dotted(path)}` } satisfies Case;
  });
}

/** Valid bodies with varied values, so the routes' real work (and its state changes) runs between the bad ones. */
const VARIANTS: Record<string, fc.Arbitrary<unknown>> = {
  up: fc.record(
    { project: fc.constant(shop), services: fc.subarray(['web', 'db']), build: fc.constantFrom('auto', 'never'), scale: fc.record({ web: fc.integer({ min: 0, max: 3 }) }) },
    { requiredKeys: ['project'] },
  ),
  build: fc.record({ project: fc.constant(shop), services: fc.subarray(['web', 'db', 'ghost']) }, { requiredKeys: ['project'] }),
  sync: fc.record({ service: fc.constantFrom('web', 'db', 'ghost'), files: fc.constant([]), restart: fc.constant(false) }),
  down: fc.record({ volumes: fc.boolean(), removeOrphans: fc.boolean() }, { requiredKeys: [] }),
  scale: fc.record({ services: fc.dictionary(fc.constantFrom('web', 'db', 'ghost'), fc.integer({ min: 0, max: 3 })) }),
  stop: fc.record({ services: fc.subarray(['web', 'db']) }, { requiredKeys: [] }),
  start: fc.record({ services: fc.subarray(['web', 'db']) }, { requiredKeys: [] }),
  restart: fc.record({ services: fc.subarray(['db']), timeoutMs: fc.integer({ min: 0, max: 1000 }) }),
  kill: fc.record({ service: fc.constantFrom('web', 'db'), replica: fc.integer({ min: 1, max: 4 }) }),
  drain: fc.record({ service: fc.constantFrom('web', 'db'), replica: fc.integer({ min: 1, max: 4 }), drained: fc.boolean() }),
};

function caseFor(route: string): fc.Arbitrary<Case> {
  const plain = (expect: Case['expect'], why: string) => (text: string): Case => ({ route, text, expect, why });
  return fc.oneof(
    { weight: 6, arbitrary: wrongType(route) },
    { weight: 2, arbitrary: VARIANTS[route]!.map((v) => plain('any', 'valid variant')(JSON.stringify(v))) },
    { weight: 4, arbitrary: mutated(route) },
    { weight: 2, arbitrary: pollution(route) },
    // Arbitrary JSON documents and objects with keys the routes read: mostly malformed, but not provably so.
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v) => plain('any', 'arbitrary JSON')(JSON.stringify(v))) },
    {
      weight: 3,
      arbitrary: fc
        .dictionary(fc.constantFrom('project', 'services', 'service', 'replica', 'drained', 'files', 'wait', 'build', 'volumes'), anyValue)
        .map((v) => plain('any', 'contract keys, arbitrary values')(JSON.stringify(v))),
    },
    // Not JSON at all, and JSON nested far deeper than any real body.
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== '' && !isJson(s)).map(plain('protocol', 'not JSON')) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 100_000 }).map((n) => plain('protocol', `nested ${n}`)(`${'['.repeat(n)}${']'.repeat(n)}`)) },
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

interface Answer {
  status: number;
  error?: SerializedError;
  /** For streamed operations: the final frame's error, if the operation failed after the 200. */
  finalError?: SerializedError;
}

let dir: string;
let engine: FakeEngine;
let daemon: RunningDaemon;
// One connection a request: a kept-alive socket can meet the server's keep-alive timeout mid-write (ECONNRESET).
const agent = new Agent({ keepAlive: false });

function post(path: string, text: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: daemon.home.socket, path, method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (res.headers['content-type'] === 'application/x-ndjson') {
            const last = JSON.parse(body.trim().split('\n').at(-1) ?? '{}') as { kind?: string; error?: SerializedError };
            resolve({ status, ...(last.kind === 'error' && last.error ? { finalError: last.error } : {}) });
            return;
          }
          const parsed = JSON.parse(body) as { error?: SerializedError };
          resolve({ status, ...(parsed.error ? { error: parsed.error } : {}) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** Why the answer breaks the contract, or undefined when it is fine. */
function verdict(c: Case, a: Answer): string | undefined {
  const error = a.error ?? a.finalError;
  if (a.status >= 500 || error?.code === 'CMESH_E_BUG') return `daemon failed: ${a.status} ${error?.code} ${error?.message}`;
  if (c.expect === 'any') return undefined;
  if (a.status !== 400 || a.error?.code !== 'CMESH_E_DAEMON_PROTOCOL') return `expected 400 CMESH_E_DAEMON_PROTOCOL, got ${a.status} ${error?.code ?? ''} ${error?.message ?? ''}`;
  // A prefix: the replacement itself may hold the first offending key (a planted `__proto__` deep inside it).
  const named = (p: string | undefined, want: string): boolean => p === want || (p ?? '').startsWith(`${want}.`) || (p ?? '').startsWith(`${want}[`);
  if (c.path && !(a.error.issues ?? []).some((i) => named(i.path, dotted(c.path!)))) {
    return `the error does not name ${dotted(c.path)}: ${a.error.message}`;
  }
  return undefined;
}

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const MiB = 1024 * 1024;

const faults: string[] = [];
const onRejection = (reason: unknown): void => void faults.push(`unhandledRejection: ${(reason as Error)?.stack ?? String(reason)}`);
const onException = (err: Error): void => void faults.push(`uncaughtException: ${err.stack ?? String(err)}`);

before(async () => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  dir = await mkdtemp(join(tmpdir(), 'cm-fuzz-'));
  engine = new FakeEngine({ now: Date.now });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000 });
});

after(async () => {
  agent.destroy();
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});

test(`fuzz: ${BODIES} malformed bodies on every POST route answer typed errors, no crash, memory flat`, { timeout: 240_000 }, async () => {
  const reUp = async (): Promise<void> => {
    const a = await post('/v1/projects/shop/up', JSON.stringify(VALID['up']));
    assert.equal(a.finalError, undefined, `re-up failed: ${a.finalError?.message}`);
  };
  const failures: string[] = [];
  const outcomes = new Map<string, number>();
  const rss: number[] = [];
  let heapAfterWarmup = 0;
  const started = Date.now();
  const arbitrary = fc.constantFrom(...ROUTES).chain(caseFor);
  let chunk: Case[] = [];
  for (let i = 0; i < BODIES && failures.length < 50; i++) {
    if (i % CHUNK === 0) {
      // A new chunk of cases each 100 requests, so the sent ones are garbage the measure below does not count.
      chunk = fc.sample(arbitrary, { numRuns: CHUNK, seed: SEED + i });
      // The project comes back now and then: a valid `down` (or a stop) must not leave the other routes nothing to do.
      await reUp();
      // The fake engine's call log is the test double's memory, not the daemon's: keep it out of the measure.
      engine.clearCalls();
      gc();
      rss.push(process.memoryUsage().rss);
      if (i === 1000) heapAfterWarmup = process.memoryUsage().heapUsed;
    }
    const c = chunk[i % CHUNK]!;
    let answer: Answer;
    try {
      answer = await post(`/v1/projects/shop/${c.route}`, c.text);
    } catch (err) {
      failures.push(`#${i} ${c.route} (${c.why}): no answer: ${(err as Error).message}\n    body: ${c.text.slice(0, 300)}`);
      break;
    }
    const problem = verdict(c, answer);
    if (problem) failures.push(`#${i} ${c.route} (${c.why}): ${problem}\n    body: ${c.text.slice(0, 300)}`);
    const key = `${answer.status} ${(answer.error ?? answer.finalError)?.code ?? 'ok'}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  // Measured like the samples: after the same re-up, without the fake's call log or the last chunk of cases.
  chunk = [];
  await reUp();
  engine.clearCalls();
  gc();
  rss.push(process.memoryUsage().rss);
  const heapGrowth = (process.memoryUsage().heapUsed - heapAfterWarmup) / MiB;
  // RSS after a GC every 100 requests: the medians of the first and the last ten samples (1000 requests each).
  const rssGrowth = (median(rss.slice(-10)) - median(rss.slice(0, 10))) / MiB;
  console.log(
    `fuzz: ${BODIES} bodies in ${Date.now() - started} ms, seed ${SEED}; ${failures.length} failures; ` +
      `rss median +${rssGrowth.toFixed(1)} MiB, heap after gc +${heapGrowth.toFixed(1)} MiB; ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${BODIES} bodies broke the contract (the first 5 shown)`);
  assert.deepEqual(faults, []);
  assert.ok((outcomes.get('400 CMESH_E_DAEMON_PROTOCOL') ?? 0) > BODIES / 3, 'most bodies are malformed');
  assert.ok([...outcomes.keys()].some((k) => k.startsWith('200')), 'some bodies are valid and succeed');
  // A leak of even a few KiB a request would show: 4000 requests × 4 KiB = 16 MiB.
  assert.ok(heapGrowth < 16, `heap grew ${heapGrowth.toFixed(1)} MiB after the first 1000 requests`);
  assert.ok(rssGrowth < 64, `rss median grew ${rssGrowth.toFixed(1)} MiB between the first and last 1000 requests`);
  // Still serving, and Object.prototype untouched by any of it.
  assert.equal((await post('/v1/projects/shop/scale', JSON.stringify({ services: { web: 1 } }))).status, 200);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});
