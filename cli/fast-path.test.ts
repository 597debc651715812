// cli/fast-path.ts against the commander path: for every argv the fast path takes, the same stdout, stderr and exit
// code as runCli — a table, --json, `up -d`'s progress and its request body, a daemon error rendered with its code
// and hint, a config warning replayed — and
// for everything else (help, global options, unknown flags, a project the cache does not answer) it leaves the
// command alone without writing a byte. The daemon is a real HTTP server on a unix socket in a temporary CMESH_HOME.
// The same through the real bin/cmesh.js: the fast bundle (cli/fast-entry.ts, no ES module run) against the full CLI.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAST_GLOBALS } from '../bin/start-check.cjs';
import type { ReplicaStatus } from '../daemon/api/control.ts';
import { fastGlobals, fastPsArgs, fastUpArgs, runFastPath } from './fast-path.ts';
import { runCli } from './program.ts';
import { captureContext } from './test-helpers.ts';

let dir: string;
let server: Server;
const requests: string[] = [];
const upBodies: string[] = [];
const build = globalThis as { cmeshBuild?: string };

const replica = (name: string, state: string): ReplicaStatus =>
  ({ project: 'fastp', service: 'web', replica: 1, name, id: name, state, health: 'none', endpoints: [], restarts: 0 }) as unknown as ReplicaStatus;

/** `up --wait`'s service table: web routed (an endpoint, nothing published to probe) and ready. */
const webRow = {
  project: 'fastp',
  service: 'web',
  desired: 1,
  ready: 1,
  publishedPorts: [],
  replicas: [{ id: 'web#1', state: 'running', endpoints: [{ port: 3000, hostPort: 32768 }], health: { active: 'healthy', passive: 'ok' }, routable: true }],
};
/** The verdict's duration and the up's remaining timeout differ between two runs by a few ms. */
const steady = (text: string): string => text.replace(/ in \d+\.\ds$/m, ' in N s');
const sameUp = (body: string): unknown => ({ ...(JSON.parse(body) as object), timeoutMs: 'remaining' });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-fast-'));
  build.cmeshBuild = 'fast-path-test';
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    if (req.method === 'POST' && req.url === '/v1/projects/fastp/up') {
      let body = '';
      for await (const chunk of req) body += chunk;
      upBodies.push(body);
      const frames = (JSON.parse(body) as { services: string[] }).services.includes('gone')
        ? [{ kind: 'error', error: { code: 'CMESH_E_SERVICE_NOT_FOUND', message: 'no service "gone"', hint: 'see cmesh services' } }]
        : [{ kind: 'progress', text: 'Container fastp-web-1  Running' }, { kind: 'result', value: { generation: 1 } }];
      // Frame by frame, as the daemon streams an operation: a chunked body.
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const f of frames) res.write(`${JSON.stringify(f)}\n`);
      res.end();
      return;
    }
    if (req.url?.startsWith('/v1/services?')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([webRow]));
      return;
    }
    // An interim 100 before the answer: node:http skips it, the fast bundle's client (cli/fast-http.ts) hands over.
    if (req.url?.includes('service=interim')) res.writeContinue();
    if (req.url?.includes('service=gone')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'CMESH_E_SERVICE_NOT_FOUND', message: 'no service "gone"', hint: 'see cmesh services' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([replica('fastp-web-1', 'running'), replica('fastp-web-2', 'exited')]));
  });
  await new Promise<void>((r) => server.listen(join(dir, 'daemon.sock'), r));
  // The obsolete `version` key is a named warning: the cached load replays it.
  await writeFile(join(dir, 'compose.yaml'), 'version: "3"\nname: fastp\nservices:\n  web:\n    image: busybox\n');
  const past = new Date(Date.now() - 60_000);
  await utimes(join(dir, 'compose.yaml'), past, past);
});

after(async () => {
  delete build.cmeshBuild;
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const ctxFor = () => captureContext({ cwd: dir, env: { CMESH_HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), NO_COLOR: '1' } });

test('only the plain shapes of `ps` take the fast path', () => {
  assert.deepEqual(fastPsArgs(['ps']), { services: [], opts: {} });
  assert.deepEqual(fastPsArgs(['ps', '-a', 'web', '--json', 'db']), { services: ['web', 'db'], opts: { all: true, json: true } });
  for (const argv of [[], ['ls'], ['-p', 'x', 'ps'], ['ps', '--help'], ['ps', '-h'], ['ps', '-aj'], ['ps', '--no-color'], ['ps', '-p', 'x'], ['ps', '--'], ['ps', '--bogus'], ['ps', '-']]) {
    assert.equal(fastPsArgs(argv), undefined, argv.join(' '));
  }
});

test('leading -p/--project-name and -f/--file are read as commander reads them; other globals leave it to commander', () => {
  assert.deepEqual(fastGlobals(['ps']), { globals: { files: [], envFiles: [], profiles: [], color: true }, rest: ['ps'] });
  assert.deepEqual(fastGlobals(['-p', 'x', '-f', 'a.yaml', '--file', 'b.yaml', 'up', '-d']), {
    globals: { files: ['a.yaml', 'b.yaml'], projectName: 'x', envFiles: [], profiles: [], color: true },
    rest: ['up', '-d'],
  });
  for (const argv of [['--no-color', 'ps'], ['-p'], ['-p', '-f', 'ps'], ['-p', 'a', '--project-name', 'b', 'ps'], ['--env-file', 'e', 'ps'], ['-pX', 'ps'], ['--file=a', 'ps'], ['-f', '', 'ps']]) {
    assert.equal(fastGlobals(argv), undefined, argv.join(' '));
  }
});

test('every leading global bin/cmesh.js skips to find the verb (FAST_GLOBALS) is one fastGlobals reads', () => {
  assert.deepEqual([...FAST_GLOBALS.keys()].sort(), ['--file', '--project-name', '-f', '-p']);
  for (const [flag, sets] of FAST_GLOBALS) {
    const read = fastGlobals([flag, 'v', 'ps']);
    assert.deepEqual(read?.rest, ['ps'], flag);
    assert.deepEqual(sets === 'file' ? read?.globals.files : read?.globals.projectName, sets === 'file' ? ['v'] : 'v', flag);
  }
});

test('only `up` with -d/--detach or --wait, one --timeout and services takes the fast path', () => {
  assert.deepEqual(fastUpArgs(['up', '-d']), { services: [], opts: { detach: true, timeout: '120' } });
  assert.deepEqual(fastUpArgs(['up', 'web', '--detach', '-d']), { services: ['web'], opts: { detach: true, timeout: '120' } });
  assert.deepEqual(fastUpArgs(['up', '-d', '--wait', '--timeout', '60']), { services: [], opts: { detach: true, wait: true, timeout: '60' } });
  assert.deepEqual(fastUpArgs(['up', '--wait', 'web', '--timeout', 'x']), { services: ['web'], opts: { wait: true, timeout: 'x' } });
  const out = [['up'], ['up', 'web'], ['up', '--timeout', '5'], ['up', '-d', '--build'], ['up', '-dw'], ['-p', 'x', 'up', '-d'], ['up', '-d', '--help'], ['up', '-d', '--']];
  out.push(['up', '--wait', '--timeout'], ['up', '--wait', '--timeout', '-1'], ['up', '--wait', '--timeout', '1', '--timeout', '2'], ['up', '--wait', '--timeout=5'], ['up', '--wait', '--report', 'j.xml']);
  for (const argv of out) {
    assert.equal(fastUpArgs(argv), undefined, argv.join(' '));
  }
});

test('a cache miss leaves the command to the full CLI, which fills the cache', async () => {
  const ctx = ctxFor();
  assert.equal(await runFastPath(['ps'], ctx), undefined);
  assert.equal(ctx.out() + ctx.err(), '', 'nothing written');
  assert.equal(await runCli(['ps'], ctxFor()), 0);
});

for (const argv of [['ps'], ['ps', '--json'], ['ps', '-a', 'web'], ['ps', 'gone'], ['ps', '--json', 'gone'], ['-p', 'fastp', 'ps'], ['-f', 'compose.yaml', '--project-name', 'fastp', 'ps', '--json']]) {
  test(`\`cmesh ${argv.join(' ')}\`: the fast path prints and exits as the commander path does`, async () => {
    await runCli(['ps'], ctxFor()); // the cache is filled
    const full = ctxFor();
    const fullCode = await runCli(argv, full);
    const fast = ctxFor();
    requests.length = 0;
    const fastCode = await runFastPath(argv, fast);
    assert.equal(requests.length, 1, 'the fast path ran and sent one request');
    assert.equal(fastCode, fullCode);
    assert.equal(fast.out(), full.out());
    assert.equal(fast.err(), full.err());
    assert.match(full.err(), /version.*obsolete/, 'the warning is printed by both');
    if (argv.includes('gone')) {
      assert.match(full.err(), /CMESH_E_SERVICE_NOT_FOUND/);
      assert.equal(fullCode, 7, 'not found');
    } else assert.equal(fullCode, 0);
  });
}

const ups = [['up', '-d'], ['up', '--detach', 'web'], ['up', '-d', 'gone'], ['-p', 'fastp', '-f', 'compose.yaml', 'up', '-d'], ['--file', 'compose.yaml', 'up', '-d', 'web']];
for (const argv of [...ups, ['up', '-d', '--wait', '--timeout', '30'], ['up', '--wait', 'web'], ['up', '--wait', '--timeout', 'soon']]) {
  test(`\`cmesh ${argv.join(' ')}\`: the fast path sends the same request and prints and exits as the commander path`, async () => {
    upBodies.length = 0;
    const full = ctxFor();
    const fullCode = await runCli(argv, full);
    const fast = ctxFor();
    assert.equal(await runFastPath(argv, fast), fullCode, 'the fast path ran, to the same exit code');
    assert.equal(steady(fast.out()), steady(full.out()));
    assert.equal(fast.err(), full.err());
    if (argv.includes('soon')) {
      assert.equal(fullCode, 2, 'a bad --timeout is a usage error on both paths, before any request');
      assert.equal(upBodies.length, 0);
      return;
    }
    assert.equal(upBodies.length, 2);
    assert.deepEqual(sameUp(upBodies[1]!), sameUp(upBodies[0]!), 'the same up request');
    assert.equal(fullCode, argv.includes('gone') ? 7 : 0);
    assert.match(full.err(), argv.includes('gone') ? /CMESH_E_SERVICE_NOT_FOUND/ : /fastp-web-1 {2}Running/);
    if (argv.includes('--wait')) assert.match(full.out(), /^cmesh: verdict web PASS ready=1\/1$/m);
  });
}

test('outside the fast path’s shapes nothing runs early: help and usage errors stay commander’s', async () => {
  await runCli(['ps'], ctxFor());
  for (const argv of [['ps', '--help'], ['ps', '--bogus'], ['-p', 'fastp', '--no-color', 'ps'], ['-pfastp', 'ps'], ['--file=compose.yaml', 'ps'], ['-p', 'a', '-p', 'b', 'ps'], ['-f', '-x', 'ps'], ['up'], ['up', '-d', '--wait', '--build'], ['up', '--help', '-d']]) {
    const ctx = ctxFor();
    requests.length = 0;
    assert.equal(await runFastPath(argv, ctx), undefined, argv.join(' '));
    assert.equal(ctx.out() + ctx.err(), '');
    assert.equal(requests.length, 0);
  }
});

const BIN = fileURLToPath(new URL('../bin/cmesh.js', import.meta.url));

/**
 * bin/cmesh.js as a user runs it; `fast: false` is the full CLI. `esm`: whether node ran an ES module (the full CLI);
 * `http`: whether node:http was loaded (the fast bundle asks the daemon through cli/fast-http.ts).
 */
async function spawnCli(argv: string[], fast: boolean): Promise<{ code: number | null; out: string; err: string; esm: boolean; http: boolean }> {
  const loaded = join(dir, `loaded-${fast}.json`);
  const env = { ...process.env, CMESH_HOME: dir, XDG_CACHE_HOME: join(dir, 'cache-bin'), NO_COLOR: '1', LOADED_OUT: loaded, CMESH_FAST_PATH: fast ? '1' : '0' };
  const child = spawn(process.execPath, ['-r', join(dir, 'loaded.cjs'), BIN, ...argv], { cwd: dir, env, timeout: 60_000 });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const modules = JSON.parse(await readFile(loaded, 'utf8')) as string[];
  return { code, out, err, esm: modules.some((m) => m.endsWith('internal/modules/esm/module_job')), http: modules.includes('NativeModule http') };
}

test('through bin/cmesh.js, the fast bundle prints and exits as the full CLI does, without running an ES module', { timeout: 180_000 }, async () => {
  await writeFile(join(dir, 'loaded.cjs'), "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_OUT, JSON.stringify(process.moduleLoadList)));\n");
  // The first start may build the bundles; the full CLI's `ps` fills this CLI build's project cache.
  assert.equal((await spawnCli(['ps'], false)).code, 0);
  const argvs = [['ps'], ['ps', '--json', 'web'], ['ps', 'gone'], ['ps', 'interim'], ['up', '-d'], ['up', '-d', 'gone'], ['-p', 'fastp', '-f', 'compose.yaml', 'up', '-d'], ['ps', '--bogus']];
  argvs.push(['up', '-d', '--wait', '--timeout', '30']);
  for (const argv of argvs) {
    const full = await spawnCli(argv, false);
    requests.length = 0;
    upBodies.length = 0;
    const fast = await spawnCli(argv, true);
    assert.deepEqual({ code: fast.code, out: steady(fast.out), err: fast.err }, { code: full.code, out: steady(full.out), err: full.err }, argv.join(' '));
    assert.equal(full.esm, true);
    // `--bogus` is commander's to reject: the fast bundle leaves it to the full CLI; so is an answer its client
    // cannot read (`interim`), after it asked but before it wrote anything.
    const handedOver = argv.includes('--bogus') || argv.includes('interim');
    assert.equal(fast.esm, handedOver, `${argv.join(' ')}: ${fast.esm ? 'the full CLI ran' : 'the fast bundle ran'}`);
    if (!handedOver) assert.equal(fast.http, false, `${argv.join(' ')}: the fast bundle loaded node:http`);
    if (!argv.includes('--bogus')) assert.equal(requests.length + upBodies.length > 0, true, 'it asked the daemon');
  }
});
