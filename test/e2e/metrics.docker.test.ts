// Metrics end to end: promtool validates docs/alerts.yaml and a live scrape of the daemon taken under load, and the
// real Prometheus server (Debian's binary, loopback, temp config and storage) scrapes the daemon every second and
// answers a query over cmesh_requests_total. Missing promtool/prometheus FAILS: scripts/ensure-tools.sh installs them.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonInfo } from '../../daemon/api/control.ts';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, RUN_LABEL, requireDocker, ROOT, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';

await dockerTestFile();

const runId = newRunId('metrics');
const project = runId;
let cli: CmeshCli;
let metricsUrl = '';
let port = 0;
let tmp = '';
let prometheus: ChildProcess | undefined;

function tool(name: string, args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(name, args, { encoding: 'utf8', timeout: 30_000, ...(input === undefined ? {} : { input }) });
  assert.ok(!r.error, `${name} is required (run scripts/ensure-tools.sh): ${r.error?.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Bounded load through the proxy: `count` GETs, 8 at a time. */
async function load(count: number): Promise<number> {
  let ok = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < count) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return ok;
}

before(async () => {
  await requireDocker();
  const image = await buildFixtureImage('echo');
  cli = await newCmeshCli();
  tmp = await mkdtemp(join(tmpdir(), 'cmesh-prom-'));
  port = await freePort();
  await writeFile(
    join(cli.work, 'compose.yaml'),
    `name: ${project}\nservices:\n  web:\n    image: ${image}\n    ports: ["${port}:3000"]\n    deploy: { replicas: 2 }\n    x-cmesh:\n      access_log: true\n      health: { path: /healthz, interval: 250ms }\n    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`,
  );
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  const info = JSON.parse((await cli.ok(['daemon', 'status', '--json'])).stdout) as DaemonInfo;
  assert.ok(info.metrics && 'url' in info.metrics, JSON.stringify(info.metrics));
  metricsUrl = info.metrics.url;
  assert.match((await cli.ok(['daemon', 'status'])).stdout, /^metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
});

after(async () => {
  prometheus?.kill('SIGTERM');
  await cli?.teardown(project, runId);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('promtool check rules docs/alerts.yaml', () => {
  const r = tool('promtool', ['check', 'rules', join(ROOT, 'docs/alerts.yaml')]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS: 4 rules found/);
});

test('a live scrape during load passes promtool check metrics and has the cmesh series', async () => {
  const pending = load(400);
  await sleep(300);
  const text = await (await fetch(metricsUrl)).text();
  assert.ok((await pending) >= 390, 'the load went through');
  const r = tool('promtool', ['check', 'metrics'], text);
  assert.equal(r.code, 0, r.out);
  assert.match(text, new RegExp(`^cmesh_requests_total\\{project="${project}",service="web",replica="[12]",method="GET",code_class="2xx",path="ingress"\\} \\d+`, 'm'));
  assert.match(text, new RegExp(`^cmesh_replicas_ready\\{project="${project}",service="web"\\} 2$`, 'm'));
  assert.match(text, /^cmesh_request_duration_seconds_bucket\{/m);
  assert.match(text, /^cmesh_process_cpu_seconds_total /m);
});

test('access_log: true writes JSON lines to CMESH_HOME/logs/<project>-<service>.access.log', async () => {
  const { readFile } = await import('node:fs/promises');
  const file = join(cli.home, 'logs', `${project}-web.access.log`);
  const lines = await until('access log lines', 5000, async () => {
    const l = (await readFile(file, 'utf8')).trim().split('\n');
    return l.length >= 100 ? l : undefined;
  });
  const entry = JSON.parse(lines.at(-1)!) as { service: string; method: string; status: number };
  assert.equal(entry.service, 'web');
  assert.equal(entry.status, 200);
});

test('the real Prometheus server scrapes the daemon and answers a query over cmesh_requests_total', async () => {
  const webPort = await freePort();
  const target = new URL(metricsUrl).host;
  await writeFile(
    join(tmp, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: ["${join(ROOT, 'docs/alerts.yaml')}"]\nscrape_configs:\n  - job_name: cmesh\n    static_configs: [{ targets: ["${target}"] }]\n`,
  );
  tool('prometheus', ['--version']);
  prometheus = spawn('prometheus', [`--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  prometheus.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const pending = load(300);
  const q = encodeURIComponent(`sum(cmesh_requests_total{project="${project}"})`);
  const result = await until(
    'a Prometheus answer with cmesh data',
    30_000,
    async () => {
      const body = (await (await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${q}`)).json()) as {
        status: string;
        data: { result: { value: [number, string] }[] };
      };
      return body.status === 'success' && body.data.result.length > 0 && Number(body.data.result[0]!.value[1]) > 0 ? body.data.result : undefined;
    },
    500,
  ).catch((err: Error) => assert.fail(`${err.message}\nprometheus stderr:\n${stderr}`));
  await pending;
  console.log(`# prometheus: sum(cmesh_requests_total) = ${result[0]!.value[1]}`);
  const up = (await (await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=up`)).json()) as { data: { result: { value: [number, string] }[] } };
  assert.equal(up.data.result[0]?.value[1], '1', 'the cmesh target is up');
});
