// The gateway supervisor swaps its worker's code under load on one listening socket: callers on fresh connections see
// the answers change from v1 to v2 with 0 failures, and a broken bundle leaves the serving worker in place. Real
// processes (node cluster), loopback only, bounded in time.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, linkSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'cgw-sup-'));
let supervisor: ChildProcess | undefined;
after(() => {
  supervisor?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A worker bundle: answers its version; `/upgrade?<path>` asks the supervisor to swap to that bundle. Told to drain,
 * it answers `Connection: close`, so keep-alive callers leave it on their own (as the gateway's proxies must).
 */
function workerFile(name: string, version: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `import http from 'node:http';
let draining = false;
process.on('message', (m) => { if (m && m.type === 'cmesh-gateway-drain') draining = true; });
const server = http.createServer((req, res) => {
  if (draining) res.setHeader('connection', 'close');
  if (req.url === '/exit') setImmediate(() => process.exit(3));
  if (req.url.startsWith('/upgrade?')) process.send({ type: 'cmesh-gateway-upgrade', file: decodeURIComponent(req.url.slice(9)) });
  if (req.url.startsWith('/upgrade-on?')) {
    const [file, runtime] = decodeURIComponent(req.url.slice(12)).split('|');
    process.send({ type: 'cmesh-gateway-upgrade', file, runtime });
  }
  if (req.url === '/exe') return res.end(process.execPath);
  res.end(${JSON.stringify(version)});
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send({ type: 'cmesh-gateway-ready' }));
`,
  );
  return file;
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

function get(port: number, path = '/', agent: http.Agent | false = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('supervisor: the worker is swapped for a new bundle under load, 0 failed calls; a broken bundle is not', async () => {
  const port = await freePort();
  const v1 = workerFile('v1', 'v1');
  const v2 = workerFile('v2', 'v2');
  const broken = join(dir, 'broken.mjs');
  writeFileSync(broken, "throw new Error('this bundle is broken');\n");
  const entry = fileURLToPath(new URL('./supervisor-main.ts', import.meta.url));
  let out = '';
  supervisor = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, CMESH_GATEWAY_WORKER: v1, PORT: String(port) } });
  supervisor.stdout!.on('data', (d) => (out += d));
  supervisor.stderr!.on('data', (d) => (out += d));
  await until('v1 to answer', 15_000, async () => (await get(port)) === 'v1');

  // Two callers for the whole run: fresh connections, and keep-alive ones (a pooled socket may sit on the old worker).
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen: string[] = [];
  const failures: string[] = [];
  let running = true;
  const caller = async (agent: http.Agent | false) => {
    const end = Date.now() + 20_000;
    while (running && Date.now() < end) {
      await get(port, '/', agent).then(
        (b) => seen.push(b),
        (e: Error & { code?: string }) => failures.push(`${agent ? 'keep-alive' : 'fresh'}: ${e.code ?? e.message}`),
      );
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const callers = Promise.all([caller(false), caller(keepAlive)]);
  // Conditions, not sleeps: a loaded host serves far fewer calls in a given 300 ms.
  await until('v1 to serve a few calls', 15_000, async () => seen.length > 10);
  await get(port, `/upgrade?${encodeURIComponent(v2)}`);
  await until('v2 to answer', 15_000, async () => seen.slice(-20).every((b) => b === 'v2') && seen.length > 20);
  const afterSwap = seen.length;
  // A bundle that throws on start: the supervisor keeps v2 serving.
  await get(port, `/upgrade?${encodeURIComponent(broken)}`);
  await until('the broken worker to be given up', 10_000, async () => out.includes('exited before it was ready'));
  const afterBroken = seen.length;
  await until('calls to be served after the broken upgrade', 15_000, async () => seen.length - afterBroken > 10);
  running = false;
  await callers;
  keepAlive.destroy();

  const v1s = seen.filter((b) => b === 'v1').length;
  process.stdout.write(`# supervisor swap under load: ${seen.length} ok (${v1s} v1, ${seen.length - v1s} v2), failed ${JSON.stringify(failures)}\n`);
  assert.deepEqual(failures, [], `no call failed:\n${out}`);
  assert.ok(v1s > 10, `v1 served before the swap (${v1s})`);
  assert.ok(seen.slice(afterSwap).every((b) => b === 'v2'), 'only v2 after the swap, the broken bundle never answered');
  assert.ok(seen.length - afterBroken > 10, 'calls kept being served after the broken upgrade');
  assert.match(out, /now serving from .*v2\.mjs/);

  // SIGTERM: the workers drain and the supervisor exits.
  const exited = new Promise((r) => supervisor!.once('exit', r));
  supervisor.kill('SIGTERM');
  await exited;
});

test('supervisor: a worker that dies unasked is started again from the same bundle; the supervisor stays', async () => {
  const port = await freePort();
  const v1 = workerFile('crashy', 'crashy');
  const entry = fileURLToPath(new URL('./supervisor-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, CMESH_GATEWAY_WORKER: v1, PORT: String(port) } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await until('the worker to answer', 15_000, async () => (await get(port)) === 'crashy');
    await get(port, '/exit');
    await until('the worker to be gone', 5000, async () => out.includes('the worker exited'));
    await until('a new worker to answer', 10_000, async () => (await get(port)) === 'crashy');
    assert.equal(child.exitCode, null, 'the supervisor did not exit');
  } finally {
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
    child.kill('SIGKILL');
  }
});

test('supervisor: a worker runs on the runtime worker.json or an upgrade names; an unspawnable one is given up', async () => {
  const port = await freePort();
  // A "new node": the same binary under another path (a hard link; a copy across filesystems).
  const runtime = join(dir, 'node-0123456789abcdef');
  try {
    linkSync(realpathSync(process.execPath), runtime);
  } catch {
    copyFileSync(realpathSync(process.execPath), runtime);
  }
  workerFile('rt1', 'rt1');
  const v2 = workerFile('rt2', 'rt2');
  const v3 = workerFile('rt3', 'rt3');
  writeFileSync(join(dir, 'worker.json'), JSON.stringify({ file: 'rt1.mjs', runtime: 'node-0123456789abcdef' }));
  const entry = fileURLToPath(new URL('./supervisor-main.ts', import.meta.url));
  const env = { ...process.env, CMESH_GATEWAY_WORKER: join(dir, 'worker.json'), PORT: String(port) };
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    await until('the first worker to answer', 15_000, async () => (await get(port)) === 'rt1');
    assert.equal(await get(port, '/exe'), runtime, 'the first worker runs on the runtime worker.json names');
    // The runtime is gone: spawning fails, the worker is given up and rt1 keeps serving on its runtime.
    await get(port, `/upgrade-on?${encodeURIComponent(`${v2}|${join(dir, 'node-gone')}`)}`);
    await until('the unspawnable worker to be given up', 5000, async () => out.includes('could not start on'));
    assert.equal(await get(port), 'rt1');
    // An upgrade naming no runtime keeps the current worker's.
    await get(port, `/upgrade?${encodeURIComponent(v3)}`);
    await until('rt3 to serve', 15_000, async () => out.includes('now serving from') && (await get(port)) === 'rt3');
    // rt1 drains (and still accepts) for drainNoticeMs (500 ms): after it, every call reaches rt3.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await get(port, '/exe'), runtime);
    // Respawned after a crash: on the same runtime.
    await get(port, '/exit');
    await until('the worker to be gone', 5000, async () => out.includes('the worker exited'));
    await until('a new worker to answer', 10_000, async () => (await get(port)) === 'rt3');
    assert.equal(await get(port, '/exe'), runtime);
    assert.equal(child.exitCode, null, `the supervisor did not exit:\n${out}`);
  } finally {
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
    child.kill('SIGKILL');
  }
});

test('supervisor: worker.json naming a runtime that is gone starts the worker on the supervisor node', async () => {
  const port = await freePort();
  workerFile('gone1', 'gone1');
  const pointer = join(dir, 'worker-gone.json');
  writeFileSync(pointer, JSON.stringify({ file: 'gone1.mjs', runtime: 'node-ffffffffffffffff' }));
  const entry = fileURLToPath(new URL('./supervisor-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, CMESH_GATEWAY_WORKER: pointer, PORT: String(port) } });
  try {
    await until('the worker to answer', 15_000, async () => (await get(port)) === 'gone1');
    assert.equal(await get(port, '/exe'), process.execPath);
  } finally {
    child.kill('SIGKILL');
  }
});
