// What the supervisor's tests share: worker bundles that answer their version, loopback calls, bounded waits.

import cluster, { type Worker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSupervisor, type Supervisor, type SupervisorOptions } from './supervisor.ts';

/** The entry the gateway image runs, and init's fallback supervisor (the source: the image holds its bundle). */
export const INIT_ENTRY = fileURLToPath(new URL('./init.ts', import.meta.url));
export const ownSupervisor = { CMESH_GATEWAY_SUPERVISOR: fileURLToPath(new URL('./supervisor-main.ts', import.meta.url)) };

/**
 * A worker bundle in `dir`: answers its version; `/upgrade?<path>` asks the supervisor to swap to that bundle
 * (`/upgrade-on?<file>|<runtime>`, `/upgrade-sup?<file>|<supervisor>` with a runtime or a supervisor module); `/pid`,
 * `/ppid`, `/exe` say which process answers, `/libs` which shared objects it mapped (Linux). Told to drain, it
 * answers `Connection: close`, so keep-alive callers leave it on their own (as the gateway's proxies must).
 */
export function workerFile(dir: string, name: string, version: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `import http from 'node:http';
import { readFileSync } from 'node:fs';
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
  if (req.url.startsWith('/upgrade-sup?')) {
    const [file, supervisor] = decodeURIComponent(req.url.slice(13)).split('|');
    process.send({ type: 'cmesh-gateway-upgrade', file, supervisor });
  }
  if (req.url === '/exe') return res.end(process.execPath);
  if (req.url === '/libs') return res.end(JSON.stringify([...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5] ?? '').filter((f) => /\\.so(\\.|$)/.test(f)))]));
  if (req.url === '/pid') return res.end(String(process.pid));
  if (req.url === '/ppid') return res.end(String(process.ppid));
  res.end(${JSON.stringify(version)});
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send({ type: 'cmesh-gateway-ready' }));
`,
  );
  return file;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

export function get(port: number, path = '/', agent: http.Agent | false = false): Promise<string> {
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

export async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Callers on `port` until stopped (bounded at `maxMs`): one on fresh connections, one keep-alive (a pooled socket may
 * sit on the old worker). `seen` collects the answers, `failures` what failed; `last` is each caller's latest answer
 * (each calls one at a time, so once both last answered the new version, no call of the old one is still on its way).
 */
export function load(
  port: number,
  maxMs = 30_000,
): { seen: string[]; failures: string[]; last: { fresh?: string; keepAlive?: string }; stop(): Promise<void> } {
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen: string[] = [];
  const failures: string[] = [];
  const last: { fresh?: string; keepAlive?: string } = {};
  let running = true;
  const caller = async (agent: http.Agent | false) => {
    const end = Date.now() + maxMs;
    while (running && Date.now() < end) {
      await get(port, '/', agent).then(
        (b) => {
          seen.push(b);
          last[agent ? 'keepAlive' : 'fresh'] = b;
        },
        (e: Error & { code?: string }) => failures.push(`${agent ? 'keep-alive' : 'fresh'}: ${e.code ?? e.message}`),
      );
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const callers = Promise.all([caller(false), caller(keepAlive)]);
  return {
    seen,
    failures,
    last,
    stop: async () => {
      running = false;
      await callers;
      keepAlive.destroy();
    },
  };
}

/**
 * A worker bundle in `dir` that runs the REAL Gateway (its ProxyListener and HostDispatcher bind as they ship) on the
 * table in env CMESH_TEST_TABLE, listening on 127.0.0.1 with every replica at 127.0.0.2. Besides the supervisor's
 * messages it takes the test's: `test-upgrade` (ask for `file`), `test-table` (apply `table`), `test-retire`,
 * `test-unretire`.
 */
export function gatewayWorkerFile(dir: string, name: string): string {
  const file = join(dir, `${name}.mjs`);
  const gateway = new URL('./gateway.ts', import.meta.url).href;
  writeFileSync(
    file,
    `import { Gateway } from ${JSON.stringify(gateway)};
const abort = new AbortController();
const gateway = new Gateway({ signal: abort.signal, holdListeners: true, host: '127.0.0.1', resolve: async () => '127.0.0.2', log: (l) => process.stdout.write(\`${name}: \${l}\\n\`) });
process.on('message', async (m) => {
  if (m?.type === 'cmesh-gateway-drain') gateway.startDraining();
  if (m?.type === 'test-upgrade') process.send({ type: 'cmesh-gateway-upgrade', file: m.file });
  if (m?.type === 'test-table') await gateway.apply(m.table).then(() => process.send({ type: 'test-applied', warnings: gateway.warnings() }));
  if (m?.type === 'test-retire') await gateway.retire().then(() => process.send({ type: 'test-retired' }));
  if (m?.type === 'test-unretire') await gateway.unretire().then(() => process.send({ type: 'test-unretired', warnings: gateway.warnings() }));
});
await gateway.apply(JSON.parse(process.env.CMESH_TEST_TABLE));
await gateway.listen();
process.send({ type: 'cmesh-gateway-ready', warnings: gateway.warnings() });
`,
  );
  return file;
}

/** What cluster workers of these tests send: the supervisor's messages and the test workers' own. */
export type TestMessage = { type?: string; file?: string; warnings?: string[] };

/** The next message of `type` any cluster worker sends, with the worker. */
export const next = (type: string): Promise<{ worker: Worker; m: TestMessage }> =>
  new Promise((resolve) => {
    const on = (worker: Worker, m: TestMessage) => {
      if (m?.type !== type) return;
      cluster.off('message', on);
      resolve({ worker, m });
    };
    cluster.on('message', on);
  });

/** A TCP connect to `host:port`: 'connected', or the error's code (ECONNREFUSED: nothing listens). */
export const connectOutcome = (port: number, host = '127.0.0.1'): Promise<string> =>
  new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

/**
 * The real supervisor on `initial`, this test process its cluster primary, until the test ends (then stopped, the
 * replicas closed, `dir` removed; SUP_DEBUG=1 prints its log). Resolves once the first worker says READY.
 */
export async function supervised(
  t: TestContext,
  o: { dir: string; initial: string; replicas: { close(): unknown }[] } & Pick<SupervisorOptions, 'drainMs' | 'drainNoticeMs'>,
): Promise<{ supervisor: Supervisor; first: { worker: Worker; m: TestMessage }; log: () => string }> {
  let out = '';
  const firstReady = next('cmesh-gateway-ready');
  const { dir, replicas, ...options } = o;
  const supervisor = runSupervisor({ ...options, log: (l) => (out += `${l}\n`) });
  t.after(async () => {
    await supervisor.stop();
    for (const r of replicas) r.close();
    rmSync(dir, { recursive: true, force: true });
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
  });
  return { supervisor, first: await firstReady, log: () => out };
}
