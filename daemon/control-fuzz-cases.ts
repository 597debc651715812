// The control API fuzz's inputs (control-fuzz.test.ts): per POST route a valid body, and fast-check arbitraries of
// bodies derived from it (wrong types at known paths, mutations, prototype keys, arbitrary JSON, non-JSON, deep
// nesting), each with what the daemon must answer.

import fc from 'fast-check';
import { project, svc } from './reconcile/testing.ts';

// web carries an env_file's values (ServiceSpec.envFiles) and the project a volume with its Kubernetes claim, so the
// fuzz also mutates those fields' schemas.
const shop = project('shop', [svc('web', { replicas: 2, envFiles: [{ file: '/nonexistent/cmesh-fuzz/app.env', values: { A: '1' } }] }), svc('db')], {
  volumes: { data: { name: 'data', engineName: 'shop_data', external: false, labels: {}, kubernetes: { size: '1Gi', accessModes: ['ReadWriteOnce'] } } },
});

/** A valid body per POST route: the seeds the mutations start from. */
export const VALID: Record<string, unknown> = {
  up: { project: shop, services: [], build: 'auto', wait: false, target: 'local' },
  build: { project: shop, services: ['web'], noCache: false },
  sync: {
    service: 'web',
    files: [{ path: '/nonexistent/cmesh-fuzz/gone.txt', containerPath: '/app/gone.txt', kind: 'unlink' }],
    restart: false,
    exec: { command: ['true'], user: 'root', workingDir: '/', env: { FUZZ: '1' } },
  },
  down: { volumes: false, removeOrphans: false },
  scale: { services: { web: 2 } },
  stop: { services: ['db'] },
  start: { services: ['db'] },
  restart: { services: ['db'], timeoutMs: 1000 },
  kill: { service: 'web', replica: 1 },
  drain: { service: 'web', replica: 1, drained: false },
  pull: { project: shop, services: ['web'], ignoreFailures: true },
  pause: { services: ['db'] },
  unpause: { services: ['db'] },
  // SIGHUP is delivered, not a stop: the fuzz's project keeps running.
  signal: { services: ['db'], signal: 'SIGHUP' },
  port: { service: 'web', privatePort: 80, protocol: 'tcp', index: 1 },
  top: { services: [] },
  images: { services: [] },
  // Creates (never starts: no detach) a one-off; the fuzz's project is torn down with its one-offs.
  run: { project: shop, service: 'db', command: ['true'], env: { A: '1' }, volumes: [], ports: [], tty: false, interactive: false, detach: false, noDeps: true },
  rm: { services: ['db'], stop: false, volumes: false, dryRun: true },
  fault: { service: 'web', faults: { delay: { percent: 10, durationMs: 200 }, abort: { percent: 5, status: 503 } } },
  // Outside the project (POST /v1/tls/certs): writes a client certificate into the fuzz's temporary CMESH_HOME.
  'tls/certs': { name: 'fuzz-client' },
};
export const ROUTES = Object.keys(VALID);
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

export type Path = (string | number)[];
/** What the daemon must answer: `protocol` = 400 CMESH_E_DAEMON_PROTOCOL (naming `path` when given); `any` = no bug. */
export interface Case {
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
export function dotted(path: Path): string {
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
  sync: fc.record(
    { service: fc.constantFrom('web', 'db', 'ghost'), files: fc.constant([]), restart: fc.constant(false), exec: fc.record({ command: fc.constant(['true']) }) },
    { requiredKeys: ['service', 'files', 'restart'] },
  ),
  down: fc.record({ volumes: fc.boolean(), removeOrphans: fc.boolean() }, { requiredKeys: [] }),
  scale: fc.record({ services: fc.dictionary(fc.constantFrom('web', 'db', 'ghost'), fc.integer({ min: 0, max: 3 })) }),
  stop: fc.record({ services: fc.subarray(['web', 'db']) }, { requiredKeys: [] }),
  start: fc.record({ services: fc.subarray(['web', 'db']) }, { requiredKeys: [] }),
  restart: fc.record({ services: fc.subarray(['db']), timeoutMs: fc.integer({ min: 0, max: 1000 }) }),
  kill: fc.record({ service: fc.constantFrom('web', 'db'), replica: fc.integer({ min: 1, max: 4 }) }),
  drain: fc.record({ service: fc.constantFrom('web', 'db'), replica: fc.integer({ min: 1, max: 4 }), drained: fc.boolean() }),
  pull: fc.record({ project: fc.constant(shop), services: fc.subarray(['web', 'db', 'ghost']), ignoreFailures: fc.boolean() }, { requiredKeys: ['project'] }),
  pause: fc.record({ services: fc.subarray(['web', 'db']) }, { requiredKeys: [] }),
  unpause: fc.record({ services: fc.subarray(['web', 'db', 'ghost']) }, { requiredKeys: [] }),
  signal: fc.record({ services: fc.subarray(['web', 'db']), signal: fc.constantFrom('SIGHUP', 'SIGUSR1', 'SIGNOPE') }, { requiredKeys: ['signal'] }),
  port: fc.record({ service: fc.constantFrom('web', 'db', 'ghost'), privatePort: fc.integer({ min: 1, max: 65535 }), index: fc.integer({ min: 1, max: 3 }) }),
  top: fc.record({ services: fc.subarray(['web', 'db']) }, { requiredKeys: [] }),
  images: fc.record({ services: fc.subarray(['web', 'db', 'ghost']) }, { requiredKeys: [] }),
  run: fc.record(
    {
      project: fc.constant(shop),
      service: fc.constantFrom('db', 'ghost'),
      command: fc.subarray(['echo', 'hi']),
      noDeps: fc.boolean(),
      detach: fc.boolean(),
      rm: fc.boolean(),
      labels: fc.constantFrom({}, { 'com.example.job': 'migrate' }),
      capAdd: fc.subarray(['NET_ADMIN']),
      useAliases: fc.boolean(),
    },
    { requiredKeys: ['project', 'service'] },
  ),
  rm: fc.record({ services: fc.subarray(['web', 'db', 'ghost']), dryRun: fc.boolean(), volumes: fc.boolean() }, { requiredKeys: [] }),
  fault: fc.record(
    {
      service: fc.constantFrom('web', 'db', 'ghost'),
      faults: fc.record({ abort: fc.record({ percent: fc.integer({ min: 0, max: 100 }), status: fc.constantFrom(500, 503) }) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['service'] },
  ),
  'tls/certs': fc.record({ name: fc.constantFrom('fuzz-client', 'fuzz.b_2', '-dash-first', '../escape', '') }),
};

export function caseFor(route: string): fc.Arbitrary<Case> {
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
