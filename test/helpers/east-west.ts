// What the east-west e2e tests share: caller containers on the project network (labelled with the run), the node
// client scripts they run (fresh-connection calls, TCP greetings, keep-alive and mixed loads), and engine-side looks
// at the gateways. Traffic only to containers on a network the calling test's project created.

import { join } from 'node:path';
import { after, before } from 'node:test';
import { SHARED_GATEWAY_LABEL } from '../../daemon/gateway-shared.ts';
import { type CmeshCli, newCmeshCli } from './cmesh-cli.ts';
import { buildFixtureImage, requireDocker, run, testLabels } from './docker.ts';
import { serviceLabels } from './echo-project.ts';

export type Call = { by?: string; service?: string; echo?: string; error?: string; ms?: number };

export interface LoadCounts {
  ok: number;
  fails: Record<string, number>;
}

export interface ModeResult extends LoadCounts {
  /** Longest time between two successive answers of one caller (or from its start to its first answer). */
  longestGapMs: number;
  /** Wall-clock time (ms since the epoch, same kernel clock as the host's) at which that gap ended. */
  gapEndedAt: number;
}

export interface LoadResult {
  startedAt: number;
  endedAt: number;
  keepAlive: ModeResult;
  fresh: ModeResult;
}

export interface EchoSuite {
  cli: CmeshCli | undefined;
  /** The echo fixture's image. */
  echo: string;
}

/**
 * A daemon's environment that gives every meshed project gateways of its own (`<project>-cmesh-gateway`, `-2`…), not the
 * daemon's shared one: for the tests of what a project's own gateways do (placement, start-first replacement, live
 * networks), which a project also gets with the shared one on (names changed on it, TCP ports that collide).
 */
export const PER_PROJECT_GATEWAYS: NodeJS.ProcessEnv = { CMESH_GATEWAY_SHARED: '0' };

/** An east-west e2e file's lifetime: Docker and the echo image before its tests, a CLI with its own daemon, torn down after. */
export function echoSuite(project: string, runId: string, env: NodeJS.ProcessEnv = {}): EchoSuite {
  const suite: EchoSuite = { cli: undefined, echo: '' };
  before(async () => {
    await requireDocker();
    suite.echo = await buildFixtureImage('echo');
    suite.cli = await newCmeshCli(env);
  });
  after(async () => {
    await suite.cli?.teardown(project, runId);
  });
  return suite;
}

/** Runs node scripts in fresh `cmesh/node:local` containers on `network`; each prints one JSON document last. */
export function eastWestCaller(runId: string, network: string) {
  const labels = Object.entries(testLabels(runId)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  /** `name` names the container, so a test can follow its log (loadStarted) while it runs. */
  return async (script: string, timeoutMs = 60_000, name?: string): Promise<unknown> => {
    const named = name === undefined ? [] : ['--name', name];
    const out = await run(['run', '--rm', ...named, ...labels, '--network', network, 'cmesh/node:local', 'node', '-e', script], { timeoutMs });
    return JSON.parse(out.split('\n').at(-1)!);
  };
}

/**
 * `n` HTTP GETs of http://<host>:<port>/, each on a new connection (agent: false) after a new name lookup, 2 s
 * timeout each. Returns who served each (`x-served-by`, the replica's hostname) or the error.
 */
export const httpCalls = (host: string, port: number, n: number): string => `
const http = require('node:http');
const one = () => new Promise((resolve) => {
  const t0 = Date.now();
  const req = http.get({ host: ${JSON.stringify(host)}, port: ${port}, path: '/', agent: false, timeout: 2000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve(res.statusCode === 200 ? { by: res.headers['x-served-by'], service: JSON.parse(body).service, ms: Date.now() - t0 } : { error: 'http ' + res.statusCode + ' ' + body.slice(0, 200) }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ error: e.code || e.message }));
});
(async () => { const out = []; for (let i = 0; i < ${n}; i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

/** `n` TCP connections to host:port: read the greeting the server sends first, say `ping`, read the echo, QUIT. */
export const tcpCalls = (host: string, port: number, n: number): string => `
const net = require('node:net');
const one = () => new Promise((resolve) => {
  const s = net.connect({ host: ${JSON.stringify(host)}, port: ${port} });
  let got = '';
  const timer = setTimeout(() => { s.destroy(); resolve({ error: 'timeout', got }); }, 2000);
  s.setEncoding('utf8');
  s.on('data', (d) => {
    got += d;
    const lines = got.split('\\n');
    if (lines.length === 2 && lines[0].startsWith('HELLO ')) s.write('ping\\n');
    if (lines.length >= 3) { s.write('QUIT\\n'); clearTimeout(timer); s.end(); resolve({ by: lines[0].slice(6), echo: lines[1] }); }
  });
  s.on('error', (e) => { clearTimeout(timer); resolve({ error: e.code || e.message }); });
});
(async () => { const out = []; for (let i = 0; i < ${n}; i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

/**
 * The line loadStarted() waits for, printed once at the load's first answer (not at its first call: a caller whose
 * first lookups or connections still fail has not begun the load a test means to act inside of).
 */
const FIRST_ANSWER = `let answered = false;
const firstAnswer = () => { if (!answered) { answered = true; console.log('load started'); } };`;

/**
 * A failed answer's key in a load's `fails`: its status, and the proxy's cause when the gateway answered itself
 * (`x-cmesh-error`: no-healthy-replica, overflow, proxy-closing…), e.g. `http 503 no-healthy-replica`: a 503 the
 * gateway gave and one a replica gave are different failures.
 */
const HTTP_FAILURE = `const httpFailure = (res) => 'http ' + res.statusCode + (res.headers['x-cmesh-error'] ? ' ' + res.headers['x-cmesh-error'] : '');`;

/** Four keep-alive callers at full speed for `ms` against http://host:port/ (2 s timeout each); counts and failures. */
export const keepAliveLoad = (host: string, port: number, ms: number): string => `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let ok = 0; const fails = {}; const end = Date.now() + ${ms};
${FIRST_ANSWER}
${HTTP_FAILURE}
const fail = (why) => { fails[why] = (fails[why] || 0) + 1; };
const one = () => new Promise((r) => {
  const req = http.get({ host: ${JSON.stringify(host)}, port: ${port}, path: '/', agent, timeout: 2000 }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode === 200) { ok++; firstAnswer(); } else fail(httpFailure(res)); r(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { fail(e.code || e.message); r(); });
});
const worker = async () => { while (Date.now() < end) await one(); };
Promise.all([worker(), worker(), worker(), worker()]).then(() => { agent.destroy(); console.log(JSON.stringify({ ok, fails })); });
`;

/** Four callers, each call on a new connection after a new lookup (like the measurement), for `ms`. */
export const freshLoad = (host: string, port: number, ms: number): string => keepAliveLoad(host, port, ms).replace(', agent, timeout', ', agent: false, timeout');

/**
 * `keepAlive` keep-alive callers (one agent, that many sockets) and `fresh` fresh-connection callers (new connection
 * and name lookup per call), each at most one call every 5 ms, for `ms`. Each caller tracks the longest gap between
 * its own answers.
 */
export const mixedLoad = (host: string, port: number, ms: number, callers = { keepAlive: 2, fresh: 2 }): string => `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: ${callers.keepAlive} });
const startedAt = Date.now(); const end = startedAt + ${ms};
${FIRST_ANSWER}
${HTTP_FAILURE}
const mode = () => ({ ok: 0, fails: {}, longestGapMs: 0, gapEndedAt: 0 });
const res = { keepAlive: mode(), fresh: mode() };
const one = (a) => new Promise((r) => {
  const req = http.get({ host: ${JSON.stringify(host)}, port: ${port}, path: '/', agent: a, timeout: 2000 }, (rs) => {
    rs.resume();
    rs.on('end', () => r(rs.statusCode === 200 ? undefined : httpFailure(rs)));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => r(e.code || e.message));
});
const worker = async (m, a) => {
  let last = Date.now();
  while (Date.now() < end) {
    const t0 = Date.now();
    const err = await one(a);
    const now = Date.now();
    if (err) { m.fails[err] = (m.fails[err] || 0) + 1; } else {
      m.ok++;
      firstAnswer();
      if (now - last > m.longestGapMs) { m.longestGapMs = now - last; m.gapEndedAt = now; }
      last = now;
    }
    const wait = 5 - (Date.now() - t0);
    if (wait > 0) await new Promise((w) => setTimeout(w, wait));
  }
};
const all = [];
for (let i = 0; i < ${callers.keepAlive}; i++) all.push(worker(res.keepAlive, agent));
for (let i = 0; i < ${callers.fresh}; i++) all.push(worker(res.fresh, false));
Promise.all(all).then(() => { agent.destroy(); console.log(JSON.stringify({ startedAt, endedAt: Date.now(), ...res })); });
`;

/**
 * Waits until the named caller container running mixedLoad (or keepAliveLoad) has its load's first answer: a
 * container's start takes ~1 s on an idle host and much longer on a loaded one, so a fixed sleep cannot say where
 * inside the load a test acts.
 */
export async function loadStarted(name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await run(['logs', name]).catch(() => '')).includes('load started')) {
    if (Date.now() > deadline) throw new Error(`the load in ${name} did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const failedCount = (m: LoadCounts): number => Object.values(m.fails).reduce((a, b) => a + b, 0);

/** The project's gateway containers, name → full id, straight from the engine. */
export async function gatewayIds(project: string): Promise<Record<string, string>> {
  const out = await run(['ps', '-a', '--no-trunc', '--format', '{{.Names}} {{.ID}}', '--filter', `label=dev.cmesh.project=${project}`, '--filter', 'label=dev.cmesh.role=gateway']);
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
}

/**
 * The id of the container that answers for the project's first gateway: its own (`<project>-cmesh-gateway`), else the
 * daemon's shared gateway on the project's default network (daemon/gateway-shared.ts); undefined with neither.
 */
export async function gatewayId(project: string): Promise<string | undefined> {
  const own = (await gatewayIds(project))[`${project}-cmesh-gateway`];
  if (own) return own;
  const shared = await run(['ps', '-q', '--no-trunc', '--filter', `label=${SHARED_GATEWAY_LABEL}`, '--filter', `network=${project}_default`]);
  return shared.split('\n').find(Boolean);
}

/** The gateway directory its worker pointer (worker.json) is in: the project's own, or the shared gateway's root. */
export async function gatewayDir(home: string, project: string): Promise<string> {
  return (await gatewayIds(project))[`${project}-cmesh-gateway`] ? join(home, 'gw', project) : join(home, 'gw');
}

/** A container's network aliases on `network`. */
export async function aliasesOf(container: string, network: string): Promise<string[]> {
  const raw = await run(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${network}").Aliases}}`, container]);
  return (JSON.parse(raw) as string[] | null) ?? [];
}

/** A container's address on `network`. */
export async function addressOn(container: string, network: string): Promise<string> {
  return JSON.parse(await run(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${network}").IPAddress}}`, container])) as string;
}

/** Short ids (what the echo fixture answers as x-served-by) of a service's running replicas, sorted. */
export async function runningIds(cli: CmeshCli, service: string): Promise<string[]> {
  const rows = (await cli.ps()).filter((r) => r.service === service && r.state === 'running');
  return rows.map((r) => r.container.slice(0, 12)).sort();
}

/** A compose file: east-west on, one meshed echo service `web` with fast health probes, labelled with the run. */
export const meshedWebCompose = (project: string, runId: string, echo: string, replicas: number): string => `name: ${project}
x-cmesh:
  east_west: true
services:
  web:
    image: ${echo}
    deploy: { replicas: ${replicas} }
    environment: { SERVICE_NAME: web }
    expose: ["3000"]
    x-cmesh: { health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }
${serviceLabels(runId)}`;
