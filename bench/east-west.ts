// East-west benchmark (issue #13 point 6): a caller container on a project's network against 3 echo replicas, in one
// run: direct to one replica's container IP, direct round-robin over the 3 IPs, and through the project's gateway by
// name (http://web:3000) — the measured path is container → gateway → replica. Plus the ingress path (host →
// daemon's published port → replica) under the same client, for the CPU per request of both data paths.
// Usage: npx tsx bench/east-west.ts [--seconds N] [--rounds N] [--rate N] [--rungs N] [--sidecar] [--json]  (defaults: 4 s per
//   run, 2 rounds, the open loop at half the round-robin direct maximum, then the calibrated ladder below)
// --sidecar adds proxies in the caller's own network namespace (bench/east-west-sidecar.ts: nginx, cmesh's gateway data
//   path, a TCP balancer per connection) to the closed loops and the calibrated ladder, printed after the table.
// Real parts: `node bin/cmesh.js` with its own CMESH_HOME, a compose project with `x-cmesh: { east_west: true }`, the
// echo fixture image (built locally), the caller on cmesh/node:local. nginx on the same path (caller → nginx container
// → replicas, bench/nginx-container.ts) when the host has Debian's nginx (scripts/install-bench-peers.sh); else it is left out.
// Method, per path: a closed loop of 16 keep-alive connections for max RPS (1 s warm-up not counted), then an open
// loop at half the round-robin direct maximum (request i due at start + i/rate, latency from the due time, so a
// stall shows in the percentiles: no coordinated omission). Caller, replicas and proxy share the host's cores, and a
// proxy path needs more CPU per request than the direct one: at half the *direct* maximum a proxy path runs near its
// own maximum and queues. So open loops also run at calibrated rates: half the slower proxy's own maximum, then
// halving (at most --rungs N, default 3) until no path queues; the rate quoted is that one, reported as such. CPU per request, before/after each closed loop: the
// gateway's and nginx's containers (cpuacct cgroup, else /proc/<pid>/stat of their processes), the daemon process
// (ingress), and the rest of the path (caller + replicas), so a proxy's share of the whole path's CPU is visible.
// Bounded in count and time; traffic only to the project's containers and loopback; everything carries the test
// labels and is removed at the end (down, caller container, label sweep), even on failure.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CmeshCli, newCmeshCli, until } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run, testLabels } from '../test/helpers/docker.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { benchArgs } from './args.ts';
import { containerCpu, pidsCpuSeconds, sum } from './cpu-meters.ts';
import { CLIENT, type Closed, exec, type Job, type LatencyPath, latencyLadder, type Open } from './ew-client.ts';
import { printTable, SATURATED_P50_MS } from './east-west-print.ts';
import { printSidecars, type SidecarPath, sidecarContainers, sidecarRows, startSidecars } from './east-west-sidecar.ts';
import { hostNginx, NGINX_PORT, startNginx } from './nginx-container.ts';

const opts = benchArgs('usage: npx tsx bench/east-west.ts [--seconds N] [--rounds N] [--rate N] [--rungs N] [--sidecar] [--json]', {
  seconds: { type: 'number' },
  rounds: { type: 'number' },
  rate: { type: 'number' },
  rungs: { type: 'number' },
  sidecar: { type: 'boolean' },
  json: { type: 'boolean' },
});
const SECONDS = opts.seconds ?? 4;
// Paths are measured in interleaved rounds and each keeps its best round: on a shared host a burst of someone else's
// work lands on one run of one path, and interleaving gives every path the same chance to miss it.
const ROUNDS = Math.max(1, opts.rounds ?? 2);
const JSON_OUT = opts.json === true;
const CONNS = 16;
const WARMUP_S = 1;
const PATH = '/bytes?n=1024';
const runId = newRunId('bench-ew');
const project = runId;
const network = `${project}_default`;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const jobArgs = (j: Job): string => JSON.stringify({ ...j, path: PATH, conns: CONNS, seconds: SECONDS, warmup: WARMUP_S });
const timeout = (): number => (WARMUP_S + SECONDS + 20) * 1000;
const lastJson = <T>(out: string): T => {
  const line = out.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`the load client printed no report: ${JSON.stringify(out.slice(-500))}`);
  return JSON.parse(line) as T;
};

/** Jobs run in the caller so far: each writes its report to a file of its own too. */
let jobs = 0;

/** The job in the long-lived caller container (docker exec): its traffic starts on the project network. */
async function inCaller<T>(caller: string, j: Job): Promise<T> {
  const report = `/tmp/ew-report-${++jobs}.json`;
  const out = await exec('docker', ['exec', caller, 'node', '-e', CLIENT, JSON.stringify({ ...JSON.parse(jobArgs(j)), report })], timeout());
  if (out.trim() !== '') return lastJson<T>(out);
  // docker exec lost the client's stdout (moby/moby#27289, seen here under load): read the copy it wrote.
  log(`bench/east-west: no output from the caller's job ${jobs}; reading ${report}`);
  return lastJson<T>(await exec('docker', ['exec', caller, 'cat', report], 20_000));
}

/** The same client as a host process (the ingress path through the daemon's published port on 127.0.0.1). */
async function onHost<T>(j: Job): Promise<T> {
  return lastJson<T>(await exec(process.execPath, ['-e', CLIENT, jobArgs(j)], timeout()));
}

type Measured = Closed & { cpuUsPerReq?: number; restUsPerReq?: number };

/** A closed-loop run with the CPU per request of the proxy under test and of the rest of the path (client, replicas). */
async function closedWithCpu(load: () => Promise<Closed>, proxy?: () => number, rest?: () => number): Promise<Measured> {
  const p0 = proxy?.() ?? 0;
  const r0 = rest?.() ?? 0;
  const r = await load();
  const per = (s: number): number | undefined => (r.all > 0 ? (s * 1e6) / r.all : undefined);
  return { ...r, ...(proxy ? { cpuUsPerReq: per(proxy() - p0) } : {}), ...(rest ? { restUsPerReq: per(rest() - r0) } : {}) };
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  await requireDocker();
  const echo = await buildFixtureImage('echo');
  const cli: CmeshCli = await newCmeshCli();
  let caller: string | undefined;
  // Our own containers first: the caller and nginx sit on the project network, and `down` cannot remove a network
  // that still has them attached. Once, whether the run ends, throws or is interrupted (Ctrl-C, SIGTERM).
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      await run(['rm', '-f', ...sidecarContainers(runId)]).catch(() => undefined);
      await run(['rm', '-f', `${project}-caller`, `${runId}-nginx`]).catch(() => undefined);
      await cli.teardown(project, runId);
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().finally(() => process.exit(130)));
  const started = Date.now();
  const loadAtStart = loadAverage();
  try {
    const hostPort = await freePort();
    const probe = 'health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 }';
    writeFileSync(
      join(cli.work, 'compose.yaml'),
      `name: ${project}\nx-cmesh:\n  east_west: true\nservices:\n  web:\n    image: ${echo}\n    deploy: { replicas: 3 }\n` +
        `    environment: { SERVICE_NAME: web }\n    ports: ["127.0.0.1:${hostPort}:3000"]\n    x-cmesh: { ${probe} }\n${serviceLabels(runId)}`,
    );
    log(`bench/east-west: up (project ${project}, 3 echo replicas, east_west on)`);
    await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
    const replicas = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
    if (replicas.length !== 3) throw new Error(`expected 3 running replicas, got ${replicas.length}`);
    const ips = await Promise.all(
      replicas.map(async (r) => (await run(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, r.container])).trim()),
    );
    const gateway = (await run(['ps', '-q', '--no-trunc', '--filter', `label=dev.cmesh.project=${project}`, '--filter', 'label=dev.cmesh.role=gateway'])).split('\n').filter(Boolean)[0];
    if (!gateway) throw new Error('no gateway container: is east-west on?');
    const gatewayCpu = await containerCpu(gateway);
    const daemonPid = await cli.daemonPid();
    if (!daemonPid) throw new Error('no daemon pid');

    const labels = Object.entries(testLabels(runId)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    caller = (await run(['run', '-d', ...labels, '--name', `${project}-caller`, '--network', network, 'cmesh/node:local', 'node', '-e', 'setTimeout(() => {}, 600000)'])).trim();
    const nginxBin = hostNginx();
    if (!nginxBin) log('bench/east-west: no nginx on this host (scripts/install-bench-peers.sh installs it): the nginx column is left out');
    const nginx = nginxBin ? await startNginx(nginxBin, runId, network, ips.map((ip) => `${ip}:3000`)) : undefined;
    const nginxIp = nginx ? (await run(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, nginx])).trim() : undefined;
    const nginxCpu = nginx ? await containerCpu(nginx) : undefined;
    const daemonCpu = (): number => pidsCpuSeconds([daemonPid]);
    const replicasCpu = sum(await Promise.all(replicas.map((r) => containerCpu(r.container))));
    // The rest of the east-west path: the caller (client) and the replicas.
    const restCpu = sum([await containerCpu(caller), replicasCpu]);
    const sidecars: SidecarPath[] = opts.sidecar ? await startSidecars({ runId, caller, ips, nginxBin, log }) : [];
    // Until each proxy routes to all 3 (the gateway's health rises within a second of up; the first calls warm the paths).
    const serving = (what: string, hosts: string[], port: number): Promise<unknown> =>
      until(`${what} serving web`, 20_000, async () => {
        const r = await inCaller<Open>(caller!, { mode: 'open', hosts, port, rate: 50 }).catch(() => undefined);
        return r && r.errors === 0 ? true : undefined;
      }, 500);
    await serving('the gateway', ['web'], 3000);
    if (nginxIp) await serving('nginx', [nginxIp], NGINX_PORT);
    for (const p of sidecars) await serving(p.name, p.hosts, p.port);

    const best = <T>(xs: T[], better: (a: T, b: T) => boolean): T => xs.reduce((a, b) => (better(b, a) ? b : a));
    const closed: Record<'directOne' | 'directRr' | 'gateway' | 'nginx' | 'ingress', Measured[]> = { directOne: [], directRr: [], gateway: [], nginx: [], ingress: [] };
    const side = new Map<string, Measured[]>(sidecars.map((p) => [p.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}: closed loop, ${CONNS} connections: direct (1 IP), direct (3 IPs), gateway, nginx, ingress${sidecars.map((p) => `, ${p.name}`).join('')}`);
      closed.directOne.push(await closedWithCpu(() => inCaller<Closed>(caller!, { mode: 'closed', hosts: [ips[0]!], port: 3000 }), undefined, restCpu));
      closed.directRr.push(await closedWithCpu(() => inCaller<Closed>(caller!, { mode: 'closed', hosts: ips, port: 3000 }), undefined, restCpu));
      closed.gateway.push(await closedWithCpu(() => inCaller<Closed>(caller!, { mode: 'closed', hosts: ['web'], port: 3000 }), gatewayCpu, restCpu));
      if (nginxIp) closed.nginx.push(await closedWithCpu(() => inCaller<Closed>(caller!, { mode: 'closed', hosts: [nginxIp], port: NGINX_PORT }), nginxCpu, restCpu));
      closed.ingress.push(await closedWithCpu(() => onHost<Closed>({ mode: 'closed', hosts: ['127.0.0.1'], port: hostPort }), daemonCpu, replicasCpu));
      for (const p of sidecars) side.get(p.name)!.push(await closedWithCpu(() => inCaller<Closed>(caller!, { mode: 'closed', hosts: p.hosts, port: p.port }), p.cpu, restCpu));
      // Each round's figures as it ends (stderr): a long --sidecar run that dies later still leaves its closed loops.
      for (const [k, xs] of opts.sidecar ? [...Object.entries(closed), ...side] : []) {
        const m = xs.at(-1);
        if (m) log(`  ${k}: ${Math.round(m.rps)} req/s, CPU µs/req own ${m.cpuUsPerReq?.toFixed(1) ?? '-'} + rest ${m.restUsPerReq?.toFixed(1) ?? '-'}`);
      }
    }
    const maxOf = (xs: Measured[]): Measured => best(xs, (a, b) => a.rps > b.rps);
    const [directOne, directRr, viaGateway, ingress] = [maxOf(closed.directOne), maxOf(closed.directRr), maxOf(closed.gateway), maxOf(closed.ingress)];
    // CPU per request: the least over the rounds (another process's work never lowers it, it can only add to it).
    const least = (xs: Measured[], k: 'cpuUsPerReq' | 'restUsPerReq'): number | undefined => (xs.length === 0 ? undefined : Math.min(...xs.map((x) => x[k] ?? Number.POSITIVE_INFINITY)));
    const leastCpu = (xs: Measured[]): number | undefined => least(xs, 'cpuUsPerReq');
    const viaNginx = closed.nginx.length > 0 ? maxOf(closed.nginx) : undefined;

    // --rate N: a fixed rate of one's own, for a host too busy to hold half the direct maximum on any path.
    const rate = (opts.rate ?? 0) || Math.round(directRr.rps / 2);
    const open: Record<'directOne' | 'directRr' | 'gateway' | 'nginx', Open[]> = { directOne: [], directRr: [], gateway: [], nginx: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}: open loop at ${rate} req/s: direct (1 IP), direct (3 IPs), gateway, nginx`);
      open.directOne.push(await inCaller<Open>(caller, { mode: 'open', hosts: [ips[0]!], port: 3000, rate }));
      open.directRr.push(await inCaller<Open>(caller, { mode: 'open', hosts: ips, port: 3000, rate }));
      open.gateway.push(await inCaller<Open>(caller, { mode: 'open', hosts: ['web'], port: 3000, rate }));
      if (nginxIp) open.nginx.push(await inCaller<Open>(caller, { mode: 'open', hosts: [nginxIp], port: NGINX_PORT, rate }));
    }
    const calmest = (xs: Open[]): Open => best(xs, (a, b) => a.p50 < b.p50);
    const [oDirectOne, oDirectRr, oGateway] = [calmest(open.directOne), calmest(open.directRr), calmest(open.gateway)];
    const oNginx = open.nginx.length > 0 ? calmest(open.nginx) : undefined;
    const latencyPaths: LatencyPath[] = [{ name: 'direct', hosts: ips, port: 3000 }, { name: 'gateway', hosts: ['web'], port: 3000 }];
    if (nginxIp) latencyPaths.push({ name: 'nginx', hosts: [nginxIp], port: NGINX_PORT });
    latencyPaths.push(...sidecars);
    const slowest = Math.min(viaGateway.rps, viaNginx?.rps ?? Number.POSITIVE_INFINITY, ...[...side.values()].map((xs) => maxOf(xs).rps));
    const ladder = await latencyLadder((lp, rate) => inCaller<Open>(caller!, { mode: 'open', hosts: lp.hosts, port: lp.port, rate }), latencyPaths, slowest / 2, {
      rounds: ROUNDS,
      saturatedMs: SATURATED_P50_MS,
      rungs: opts.rungs ?? 3,
      log,
    });
    const quoted = ladder.at(-1)!;
    const [cDirect, cGateway, cNginx] = [quoted.byPath['direct']!, quoted.byPath['gateway']!, quoted.byPath['nginx']];
    const restDirect = least(closed.directRr, 'restUsPerReq');
    // What the shared cores allow a proxy path, from CPU per request alone: direct needs `rest` µs per request, a proxy
    // path its own rest plus the proxy's. Both saturating the same cores, max RPS scales with the inverse.
    const cpuBound = (rest: number | undefined, proxy: number | undefined): number | undefined =>
      restDirect === undefined || rest === undefined || proxy === undefined ? undefined : restDirect / (rest + proxy);
    // The kernel charges a packet's softirq work to whichever cgroup runs when it lands, so the hop's network cost is
    // split between the proxy's container and the caller's/replicas': only the whole path's sum compares proxies.
    const whole = (k: 'gateway' | 'nginx'): number | undefined => {
      const [rest, proxy] = [least(closed[k], 'restUsPerReq'), leastCpu(closed[k])];
      return rest === undefined || proxy === undefined ? undefined : rest + proxy;
    };

    const result = {
      date: new Date().toISOString(),
      request: `GET ${PATH}, keep-alive, ${CONNS} connections, ${SECONDS} s per run (+${WARMUP_S} s warm-up), best of ${ROUNDS} interleaved rounds per path`,
      loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
      maxRps: { directOne: directOne.rps, directRoundRobin: directRr.rps, gateway: viaGateway.rps, nginx: viaNginx?.rps, ingressFromHost: ingress.rps },
      rpsRatioVsDirect: { roundRobin: viaGateway.rps / directRr.rps, oneReplica: viaGateway.rps / directOne.rps, nginxVsRoundRobin: viaNginx ? viaNginx.rps / directRr.rps : undefined },
      cpuUsPerRequest: { gateway: leastCpu(closed.gateway), nginx: leastCpu(closed.nginx), ingressDaemon: leastCpu(closed.ingress) },
      // The caller container and the 3 replicas per request (replicas only on the ingress row: its client is on the host).
      restOfPathUsPerRequest: {
        directOne: least(closed.directOne, 'restUsPerReq'),
        directRoundRobin: least(closed.directRr, 'restUsPerReq'),
        gateway: least(closed.gateway, 'restUsPerReq'),
        nginx: least(closed.nginx, 'restUsPerReq'),
        ingressReplicas: least(closed.ingress, 'restUsPerReq'),
      },
      rounds: ROUNDS,
      fixedRateLatencyMs: { rate, directOne: oDirectOne, directRoundRobin: oDirectRr, gateway: oGateway, nginx: oNginx },
      addedP50Ms: { gateway: oGateway.p50 - oDirectRr.p50, nginx: oNginx ? oNginx.p50 - oDirectRr.p50 : undefined },
      addedP99Ms: { gateway: oGateway.p99 - oDirectRr.p99, nginx: oNginx ? oNginx.p99 - oDirectRr.p99 : undefined },
      calibrated: {
        rate: quoted.rate,
        directRoundRobin: cDirect,
        gateway: cGateway,
        nginx: cNginx,
        addedP50Ms: { gateway: cGateway.p50 - cDirect.p50, nginx: cNginx ? cNginx.p50 - cDirect.p50 : undefined },
        saturated: quoted.saturated,
        ladder: ladder.map((r) => ({ rate: r.rate, saturated: r.saturated, p50: Object.fromEntries(Object.entries(r.byPath).map(([k, v]) => [k, v.p50])) })),
      },
      wholePathUsPerRequest: { direct: restDirect, gateway: whole('gateway'), nginx: whole('nginx') },
      cpuBoundRatio: { gateway: cpuBound(least(closed.gateway, 'restUsPerReq'), leastCpu(closed.gateway)), nginx: cpuBound(least(closed.nginx, 'restUsPerReq'), leastCpu(closed.nginx)) },
      saturated: Object.entries({ directOne: oDirectOne, directRoundRobin: oDirectRr, gateway: oGateway, nginx: oNginx })
        .filter(([, o]) => o !== undefined && o.p50 > SATURATED_P50_MS)
        .map(([k]) => k),
      ...(opts.sidecar
        ? {
            sidecars: sidecarRows(
              sidecars,
              { rps: (n) => maxOf(side.get(n)!).rps, cpu: (n) => leastCpu(side.get(n)!), rest: (n) => least(side.get(n)!, 'restUsPerReq') },
              { rps: directRr.rps, wholeUs: restDirect, calibrated: cDirect },
              quoted.byPath,
            ),
          }
        : {}),
      errors: [...Object.values(closed).flat(), ...[...side.values()].flat(), ...Object.values(open).flat(), ...ladder.flatMap((r) => Object.values(r.byPath))].reduce((n, r) => n + r.errors, 0),
      benchSeconds: 0,
    };
    result.benchSeconds = Math.round((Date.now() - started) / 1000);
    if (JSON_OUT) console.log(JSON.stringify(result, null, 2));
    else {
      printTable(result);
      if (result.sidecars) printSidecars(result.sidecars, quoted.rate);
    }
  } finally {
    // nginx's image carries the run label: teardown's sweep (cleanup(runId)) removes it.
    await cleanUp();
  }
}

await main();
