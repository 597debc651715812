// Traffic policy on calls by name (east-west), on the real engine: a caller container on the project network calls
// http://front:3000 through the gateway and gets front's route split, a 429 from a route's rate limit, and an abort
// injected at run time by `cmesh fault` (then cleared). The same limit on the published port keeps a bucket of its own:
// limits are per data-plane process, not shared or divided. Traffic only to containers on the network this test made.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RoutesView } from '../../daemon/api/policy-control.ts';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, dockerTestFile } from '../helpers/docker.ts';
import { eastWestCaller, loadStarted } from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';
import { freePort } from '../helpers/free-port.ts';
import { metricSum } from '../helpers/metrics.ts';

await dockerTestFile();

const runId = newRunId('policyew');
const project = runId;
const network = `${project}_default`;
let cli: CmeshCli | undefined;
let published = 0;
let writeCompose: (admin: number, canary: number) => Promise<void>;
/** Concurrent callers for the draws of a split or a fault rate: each draw is its own, so only the count matters. */
const CALLERS = 8;
/** Node scripts in fresh caller containers on the project network, labelled with the run. */
const caller = eastWestCaller(runId, network);

interface Call {
  status: number;
  service?: string;
  path?: string;
  error?: string;
  retryAfter?: string;
  ms: number;
}

/**
 * `n` GETs of http://host:port<path> from a fresh node container on the project network, `callers` at a time (each
 * on its own keep-alive connection), 5 s timeout each; what each got back (status, serving service and the path it
 * saw, x-cmesh-error, Retry-After). Answers are listed in the order they came.
 */
async function callByName(host: string, port: number, path: string, n: number, callers = 1): Promise<Call[]> {
  const script = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: ${callers} });
const one = () => new Promise((resolve) => {
  const t0 = Date.now();
  const req = http.get({ host: ${JSON.stringify(host)}, port: ${port}, path: ${JSON.stringify(path)}, agent, timeout: 5000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => {
      let j = {};
      try { j = JSON.parse(body); } catch {}
      resolve({ status: res.statusCode, service: j.service, path: j.path, error: res.headers['x-cmesh-error'], retryAfter: res.headers['retry-after'], ms: Date.now() - t0 });
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: Date.now() - t0 }));
});
let left = ${n};
const out = [];
const worker = async () => { while (left > 0) { left--; out.push(await one()); } };
Promise.all(Array.from({ length: ${callers} }, worker)).then(() => console.log(JSON.stringify(out)));
`;
  return (await caller(script, Math.max(120_000, n * 100))) as Call[];
}

/**
 * Calls by name for `ms` on one keep-alive connection from a caller container named `name`: answers by serving
 * service, failures. It logs `load started` after its 50th answer (loadStarted waits for that line).
 */
async function loadByName(name: string, host: string, port: number, path: string, ms: number): Promise<{ by: Record<string, number>; fails: Record<string, number> }> {
  const script = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const by = {}; const fails = {}; const end = Date.now() + ${ms};
const fail = (why) => { fails[why] = (fails[why] || 0) + 1; };
const one = () => new Promise((resolve) => {
  const req = http.get({ host: ${JSON.stringify(host)}, port: ${port}, path: ${JSON.stringify(path)}, agent, timeout: 5000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => {
      if (res.statusCode !== 200) fail('http ' + res.statusCode + ' ' + (res.headers['x-cmesh-error'] || ''));
      else { const s = JSON.parse(body).service; by[s] = (by[s] || 0) + 1; }
      resolve();
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { fail(e.code || e.message); resolve(); });
});
(async () => {
  for (let n = 1; Date.now() < end; n++) { await one(); if (n === 50) console.log('load started'); }
  console.log(JSON.stringify({ by, fails }));
})();
`;
  return (await caller(script, ms + 60_000, name)) as { by: Record<string, number>; fails: Record<string, number> };
}

before(async () => {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  cli = await newCmeshCli();
  published = await freePort();
  const probe = 'health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 }';
  const backend = (name: string): string =>
    `  ${name}:\n    image: ${echo}\n    environment: { SERVICE_NAME: ${name} }\n    expose: ["3000"]\n    x-cmesh: { ${probe} }\n${serviceLabels(runId)}`;
  // east_west set explicitly: these tests hold whether or not it is on by default.
  const compose = (admin: number, canary: number): string => `name: ${project}
x-cmesh:
  east_west: true
services:
  front:
    image: ${echo}
    environment: { SERVICE_NAME: front }
    ports: ["127.0.0.1:${published}:3000"]
    x-cmesh:
      ${probe}
      routes:
        - { match: { path_prefix: /split/ }, strip_prefix: /split, to: { admin: ${admin}, canary: ${canary} } }
        - { match: { path_prefix: /limited/ }, strip_prefix: /limited, to: { front: 1 }, rate_limit: { requests_per_second: 0.01, burst: 5, key: route } }
        - { to: { front: 1 } }
${serviceLabels(runId)}${backend('admin')}${backend('canary')}`;
  writeCompose = (admin, canary) => writeFile(join(cli!.work, 'compose.yaml'), compose(admin, canary));
  await writeCompose(90, 10);
  await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  // The gateway may still be taking its first table: wait until a call by name is answered by front.
  await until('front answers by name through the gateway', 60_000, async () => {
    const [c] = await callByName('front', 3000, '/', 1);
    return c?.status === 200 && c.service === 'front' ? true : undefined;
  }, 500);
});

/** Sum of the daemon's samples of `name` whose labels include `labels`. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const status = JSON.parse((await cli!.ok(['daemon', 'status', '--json'])).stdout) as { metrics?: { url?: string } };
  return metricSum(status.metrics!.url!, name, labels);
}

after(async () => {
  await cli?.teardown(project, runId);
});

// 2 000 draws: ±3 points is 4.5 standard deviations of a 10 % share (over 1 000 it was 3.2, a chance failure in ~600 runs).
test('by name: a 90/10 route split lands within ±3 points over 2 000 calls; strip_prefix applies', { timeout: 180_000 }, async () => {
  const calls = await callByName('front', 3000, '/split/', 2000, CALLERS);
  const counts: Record<string, number> = {};
  for (const c of calls) {
    const key = c.status === 200 ? `${c.service}` : `http ${c.status} ${c.error ?? ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  assert.equal((counts['admin'] ?? 0) + (counts['canary'] ?? 0), 2000, JSON.stringify(counts));
  const canary = ((counts['canary'] ?? 0) / 2000) * 100;
  assert.ok(Math.abs(canary - 10) <= 3, `canary got ${canary}% (${JSON.stringify(counts)})`);
  // `cmesh routes` shows the gateway's own counters for calls by name (it reports once a second).
  await until('the gateway route counters in cmesh routes', 10_000, async () => {
    const view = JSON.parse((await cli!.ok(['routes', '--json'])).stdout) as RoutesView;
    const split = view.eastWest?.ports.find((p) => p.service === 'front' && p.port === 3000)?.routes[0];
    return split !== undefined && split.requests >= 2000 && split.to.reduce((n, t) => n + t.requests, 0) >= 2000 ? true : undefined;
  }, 500);
  // echo answers an unknown path 404 naming the path it saw: the prefix is gone.
  const [stripped] = await callByName('front', 3000, '/split/no-such-thing', 1);
  assert.equal(stripped?.status, 404);
  assert.equal(stripped?.path, '/no-such-thing');
});

test("by name: the route's rate limit answers 429 with Retry-After; the published port's bucket is its own", { timeout: 120_000 }, async () => {
  const calls = await callByName('front', 3000, '/limited/', 8);
  assert.deepEqual(
    calls.map((c) => c.status),
    [200, 200, 200, 200, 200, 429, 429, 429],
  );
  for (const c of calls.slice(5)) {
    assert.equal(c.error, 'rate-limited');
    assert.ok(Number(c.retryAfter) >= 1, `Retry-After ${c.retryAfter}`);
  }
  // The daemon's metrics count the gateway's refusals by reason and route as a published port's (its stats, once a second).
  await until('the gateway refusals in the metrics', 10_000, async () => {
    const refused = await metric('cmesh_policy_rejections_total', { project, service: 'front', reason: 'rate-limited' });
    const byRoute = await metric('cmesh_route_requests_total', { project, service: 'front', route: '#1', target: 'front', code_class: '4xx' });
    return refused === 3 && byRoute === 3 ? true : undefined;
  }, 500);
  // key: route, so one bucket per route whoever calls. Were it shared with the gateway, the ingress would refuse at once;
  // it accepts a whole burst of its own (README: each data-plane process enforces the full limit).
  const ingress: number[] = [];
  for (let i = 0; i < 7; i++) {
    const res = await fetch(`http://127.0.0.1:${published}/limited/`);
    await res.arrayBuffer();
    ingress.push(res.status);
  }
  assert.deepEqual(ingress, [200, 200, 200, 200, 200, 429, 429]);
});

test('by name: `cmesh fault --abort` reaches the gateway at run time, `--clear` stops it', { timeout: 120_000 }, async () => {
  await cli!.ok(['fault', 'admin', '--abort', '503', '--percent', '100']);
  // The daemon re-sends changed tables every 100 ms.
  const aborted = await until('the abort reaches the gateway', 10_000, async () => {
    const [c] = await callByName('admin', 3000, '/', 1);
    return c?.status === 503 ? c : undefined;
  }, 200);
  assert.equal(aborted.error, 'fault-injected');
  // Through front's split too: admin's faults apply after the route picked admin, canary is untouched.
  const split = await callByName('front', 3000, '/split/', 100);
  assert.ok(split.every((c) => (c.status === 503 && c.error === 'fault-injected') || (c.status === 200 && c.service === 'canary')), JSON.stringify(split.slice(0, 5)));
  assert.ok(split.filter((c) => c.status === 503).length >= 80);
  await cli!.ok(['fault', 'admin', '--clear']);
  await until('--clear reaches the gateway', 10_000, async () => ((await callByName('admin', 3000, '/', 1))[0]?.status === 200 ? true : undefined), 200);
  const after = await callByName('admin', 3000, '/', 50);
  assert.ok(after.every((c) => c.status === 200 && c.service === 'admin'), JSON.stringify(after.find((c) => c.status !== 200)));
});

test('by name: run-time abort and delay rates within ±3 points of the configured ones', { timeout: 360_000 }, async () => {
  try {
    await cli!.ok(['fault', 'admin', '--abort', '503', '--percent', '10']);
    await until('the 10 % abort reaches the gateway', 10_000, async () => ((await callByName('admin', 3000, '/', 40)).some((c) => c.status === 503) ? true : undefined), 200);
    // The rates' draws come from CALLERS callers at once: the binomial bound depends on the count, not the time.
    // 2 000 draws, as for the delays below: ±3 points is 4.5 standard deviations.
    const aborts = await callByName('admin', 3000, '/', 2000, CALLERS);
    const aborted = aborts.filter((c) => c.status === 503 && c.error === 'fault-injected').length;
    assert.equal(aborts.filter((c) => c.status === 200).length + aborted, 2000);
    assert.ok(Math.abs(aborted / 20 - 10) <= 3, `aborted ${aborted}/2000`);
    // 300 ms stands well above this shared host's slow plain calls, so a slow one is not taken for a delay.
    await cli!.ok(['fault', 'admin', '--delay', '300ms', '--percent', '10']);
    await until('the delay reaches the gateway', 10_000, async () => ((await callByName('admin', 3000, '/', 40)).some((c) => c.ms >= 290) ? true : undefined), 200);
    // 2 000 draws: ±3 points is 4.5 standard deviations (with 500 draws it was 2.2, a 3 % chance failure).
    const delays = await callByName('admin', 3000, '/', 2000, CALLERS);
    assert.ok(delays.every((c) => c.status === 200), 'a delay is not an abort');
    const delayed = delays.filter((c) => c.ms >= 290).length;
    assert.ok(Math.abs(delayed / 20 - 10) <= 3, `delayed ${delayed}/2000`);
  } finally {
    // The next test calls admin through the split: no fault may outlive this one.
    await cli!.ok(['fault', 'admin', '--clear']);
  }
});

test('by name: an edited split applies on `up` under load with no failed call, the new weights within 5 s', { timeout: 240_000 }, async () => {
  const load = loadByName(`${runId}-edit-load`, 'front', 3000, '/split/', 30_000);
  // A failed step below must not leave the load's rejection unhandled (the container is reaped by the teardown).
  load.catch(() => undefined);
  // The edit lands once the caller has had answers, however long its container took to start on a loaded host.
  await loadStarted(`${runId}-edit-load`);
  try {
    await writeCompose(50, 50);
    await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  } finally {
    const result = await load;
    assert.deepEqual(result.fails, {}, JSON.stringify(result));
    assert.ok((result.by['admin'] ?? 0) + (result.by['canary'] ?? 0) > 100, JSON.stringify(result));
  }
  // The daemon re-sends a changed table within 100 ms; 100 calls of a 1:1 smooth split are 50/50.
  await until('the 50/50 split by name', 5000, async () => {
    const calls = await callByName('front', 3000, '/split/', 100);
    const canary = calls.filter((c) => c.service === 'canary').length;
    return canary >= 45 && canary <= 55 ? true : undefined;
  }, 100);
});
