// Issue 18's HTTP/2 acceptance on the real engine: curl --http2 over TLS and --http2-prior-knowledge on a plain port
// get HTTP/2; a gRPC-style h2c echo of 3 replicas (`x-cmesh.protocol: grpc`) takes 3 000 unary calls over ONE client
// session spread per stream (round-robin) within ±3 %, loses no call that had no response byte when a replica is killed -9, and
// none at all through a rolling `cmesh restart`. Every load loop is bounded in count and time.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2, { type ClientHttp2Session } from 'node:http2';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type CmeshCli, projectContainers, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, run, dockerTestFile } from '../helpers/docker.ts';
import { type EchoProject, echoProject, serviceLabels } from '../helpers/echo-project.ts';
import { freePort } from '../helpers/free-port.ts';
import { type CallOutcome, callLoop, unaryCall } from '../helpers/grpc-load.ts';

await dockerTestFile();

const exec = promisify(execFile);
const runId = newRunId('h2');
let p: EchoProject | undefined;
let cli: CmeshCli;
let webPort: number;
let caPath: string;
let session: ClientHttp2Session | undefined;

before(async () => {
  webPort = await freePort();
  const echo = await buildFixtureImage('echo');
  const web = `  web:\n    image: ${echo}\n    ports: ["${webPort}:3000"]\n    x-cmesh: { tls: true }\n${serviceLabels(runId)}`;
  p = await echoProject({ runId, fixture: 'h2echo', service: 'rpc', replicas: 3, mesh: ['protocol: grpc', 'retries: 2', 'lb: round-robin'], extraServices: web });
  cli = p.cli;
  // --wait smoke-probes the rpc port with an HTTP/1.1 GET: cmesh forwards it to the h2c-only replicas as a stream.
  await cli.ok(['up', '-d', '--wait', '--timeout', '90'], 120_000);
  caPath = (await cli.ok(['ca', 'path'])).stdout.trim();
  session = http2.connect(`http://127.0.0.1:${p.port}`);
  session.on('error', () => {});
  await allThreeServe();
});

after(async () => {
  session?.destroy();
  await p?.teardown();
});

/** curl's HTTP version, status and verbose output; never throws. */
async function curl(args: string[], url: string): Promise<{ version: string; status: string; body: string; verbose: string }> {
  try {
    const r = await exec('curl', ['-sS', '-v', '--max-time', '10', '-w', '\n%{http_version} %{http_code}', ...args, url], { timeout: 15_000 });
    const at = r.stdout.lastIndexOf('\n');
    const [version = '', status = ''] = r.stdout.slice(at + 1).split(' ');
    return { version, status, body: r.stdout.slice(0, at), verbose: r.stderr };
  } catch (err) {
    return { version: '', status: '', body: '', verbose: String((err as { stderr?: string }).stderr ?? err) };
  }
}

const spread = (outcomes: CallOutcome[]): Map<string, number> => {
  const by = new Map<string, number>();
  for (const o of outcomes) if (o.ok && o.replica) by.set(o.replica, (by.get(o.replica) ?? 0) + 1);
  return by;
};

test('curl --http2 over TLS and --http2-prior-knowledge on a plain port both get HTTP/2', { timeout: 60_000 }, async () => {
  const tls = await until('an HTTP/2 answer over TLS', 20_000, async () => {
    const r = await curl(['--http2', '--cacert', caPath], `https://localhost:${webPort}/headers`);
    return r.status === '200' ? r : undefined;
  }, 250);
  assert.equal(tls.version, '2', tls.verbose.slice(-400));
  assert.match(tls.verbose, /ALPN: server accepted h2/);
  assert.equal((JSON.parse(tls.body) as Record<string, string>)['x-forwarded-proto'], 'https');
  const h1 = await curl(['--http1.1', '--cacert', caPath], `https://localhost:${webPort}/`);
  assert.deepEqual([h1.version, h1.status], ['1.1', '200']);
  const h2c = await curl(['--http2-prior-knowledge'], `http://127.0.0.1:${p!.port}/`);
  assert.deepEqual([h2c.version, h2c.status], ['2', '200'], h2c.verbose.slice(-400));
  assert.match(h2c.body, /^h2echo /);
});

test('3 000 unary calls over one client session are balanced per stream over all 3 replicas within ±3 % (round-robin)', { timeout: 120_000 }, async (t) => {
  const loop = callLoop(session!, { workers: 16, maxCalls: 3000, maxMs: 90_000 });
  const outcomes = await loop.done;
  const failed = outcomes.filter((o) => !o.ok);
  assert.equal(outcomes.length, 3000, 'the loop ended on its time bound');
  assert.deepEqual(failed.slice(0, 3), [], `${failed.length} calls failed`);
  const by = spread(outcomes);
  t.diagnostic(`calls per replica: ${JSON.stringify([...by.values()])}`);
  assert.equal(by.size, 3, JSON.stringify([...by]));
  // Round-robin per stream: a session pinned to one replica would give 3 000 / 0 / 0. (The default p2c is load-aware
  // by design: on a loaded host it gave a slower replica 875 of 3 000, so it cannot be held to a tight band here.)
  for (const [replica, n] of by) assert.ok(n >= 970 && n <= 1030, `replica ${replica} took ${n} of 3000 calls`);
});

/** Waits until the pool serves all 3 replicas again (after a kill, the engine or cmesh brings one back). */
async function allThreeServe(): Promise<void> {
  await until('3 replicas answering', 60_000, async () => {
    const sample = await Promise.all(Array.from({ length: 30 }, (_, i) => unaryCall(session!, `probe-${i}`)));
    return spread(sample).size === 3 ? true : undefined;
  }, 500);
}

test('kill -9 of one replica under load: 0 failed calls that had not yet received a response byte', { timeout: 120_000 }, async (t) => {
  const [victim] = await projectContainers(p!.project, ['--filter', 'label=dev.cmesh.service=rpc', '--filter', 'label=dev.cmesh.replica=2', '--filter', 'status=running']);
  assert.ok(victim, 'replica 2 of rpc is running');
  const loop = callLoop(session!, { workers: 16, maxCalls: 20_000, maxMs: 30_000 });
  await until('load under way', 10_000, async () => (loop.outcomes.length >= 300 ? true : undefined));
  await run(['kill', '-s', 'KILL', victim]);
  const killedAt = loop.outcomes.length;
  await until('load after the kill', 20_000, async () => (loop.outcomes.length >= killedAt + 1500 ? true : undefined));
  const outcomes = await loop.stop();
  const lost = outcomes.filter((o) => !o.ok && !o.responded);
  t.diagnostic(`${outcomes.length} calls, ${outcomes.filter((o) => !o.ok).length} failed (all after a response byte)`);
  assert.deepEqual(lost.slice(0, 3), [], `${lost.length} of ${outcomes.length} calls failed before any response byte`);
  await allThreeServe();
});

test('cmesh restart (rolling) under load: 0 failed calls', { timeout: 180_000 }, async (t) => {
  const loop = callLoop(session!, { workers: 16, maxCalls: 60_000, maxMs: 120_000 });
  await until('load under way', 10_000, async () => (loop.outcomes.length >= 300 ? true : undefined));
  let restarted: unknown;
  try {
    await cli.ok(['restart', 'rpc'], 120_000);
  } catch (err) {
    restarted = err;
  }
  const outcomes = await loop.stop();
  assert.equal(restarted, undefined);
  const failed = outcomes.filter((o) => !o.ok);
  t.diagnostic(`${outcomes.length} calls through the rolling restart`);
  assert.ok(outcomes.length >= 600, `only ${outcomes.length} calls`);
  assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${outcomes.length} calls failed`);
  assert.equal(spread(outcomes.slice(-300)).size, 3, 'all 3 replicas serve after the restart');
});
