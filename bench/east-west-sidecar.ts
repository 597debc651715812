// The sidecar paths of bench/east-west.ts --sidecar (issue #13 point 6): is 0.7× direct reachable when the proxy sits
// in the caller's own network namespace? Each proxy runs in a container of its own started with
// `--network container:<caller>`, so the caller reaches it over loopback and only its leg to the replicas crosses a
// veth and the bridge (the gateway path crosses them twice). Its CPU is still its own container's cgroup.
// - nginx-sidecar: the same nginx image and config as the bench's nginx path (bench/nginx-container.ts).
// - gateway-sidecar: cmesh's gateway data path (bench/proxy-gateway.ts: mesh/gateway/gateway.ts with its pools, p2c,
//   active health and request counts, fed the table the daemon would send) on cmesh/node:local, this checkout and its
//   node_modules mounted read-only. It runs under tsx rather than the daemon's worker bundle: module loading differs,
//   the code per request is the same.
// - tcp-sidecar: nginx's stream module, round robin per connection, no HTTP parsing: the floor of a user-space hop.
// Everything carries the run's labels and the bench removes it by name before the caller.

import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, testLabels } from '../test/helpers/docker.ts';
import { containerCpu } from './cpu-meters.ts';
import type { Open } from './ew-client.ts';
import { hostStreamModule, startNginx } from './nginx-container.ts';

/** Loopback ports in the caller's namespace (the caller itself listens on none). */
const PORTS = { gateway: 3000, nginx: 8080, tcp: 8081 } as const;

export interface SidecarPath {
  name: 'gateway-sidecar' | 'nginx-sidecar' | 'tcp-sidecar';
  hosts: string[];
  port: number;
  /** CPU seconds of the sidecar's container. */
  cpu: () => number;
}

/** Container names the bench removes (before the caller: they live in its namespace). */
export const sidecarContainers = (runId: string): string[] => ['gateway-sidecar', 'nginx-sidecar', 'tcp-sidecar'].map((n) => `${runId}-${n}`);

async function waitForLog(id: string, line: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const logs = await run(['logs', id]).catch(() => '');
    if (logs.includes(line)) return;
    const state = (await run(['inspect', '--format', '{{.State.Status}}', id])).trim();
    if (state !== 'running' || Date.now() > deadline) throw new Error(`${id.slice(0, 12)}: no '${line}' (state ${state}): ${logs.slice(-800)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** cmesh's gateway data path in the caller's network namespace, routing to `ips` on `PORTS.gateway`. */
async function startGatewaySidecar(runId: string, caller: string, ips: string[]): Promise<string> {
  const labels = Object.entries(testLabels(runId)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  // node_modules is a symlink in a worktree: mount its target at the same path so the link resolves inside.
  const modules = realpathSync(join(ROOT, 'node_modules'));
  const root = realpathSync(ROOT);
  const id = (
    await run([
      'run', '-d', ...labels, '--name', `${runId}-gateway-sidecar`, '--network', `container:${caller}`, '--tmpfs', '/tmp',
      '-v', `${root}:${root}:ro`, ...(modules.startsWith(`${root}/`) ? [] : ['-v', `${modules}:${modules}:ro`]),
      '-w', root, 'cmesh/node:local',
      'node', '--import', 'tsx', 'bench/proxy-gateway.ts', root, String(PORTS.gateway), '--replicas', ips.join(','),
    ])
  ).trim();
  await waitForLog(id, 'ready', 30_000);
  return id;
}

/** Starts the sidecar paths this host can run (nginx ones need the host's nginx; tcp its stream module). */
export async function startSidecars(o: { runId: string; caller: string; ips: string[]; nginxBin: string | undefined; log: (line: string) => void }): Promise<SidecarPath[]> {
  const upstreams = o.ips.map((ip) => `${ip}:3000`);
  const network = `container:${o.caller}`;
  const paths: SidecarPath[] = [];
  const add = async (name: SidecarPath['name'], port: number, id: string): Promise<void> => {
    paths.push({ name, hosts: ['127.0.0.1'], port, cpu: await containerCpu(id) });
  };
  await add('gateway-sidecar', PORTS.gateway, await startGatewaySidecar(o.runId, o.caller, o.ips));
  if (o.nginxBin) {
    await add('nginx-sidecar', PORTS.nginx, await startNginx(o.nginxBin, o.runId, network, upstreams, { name: 'nginx-sidecar', port: PORTS.nginx }));
    if (hostStreamModule()) await add('tcp-sidecar', PORTS.tcp, await startNginx(o.nginxBin, o.runId, network, upstreams, { name: 'tcp-sidecar', port: PORTS.tcp, stream: true }));
    else o.log('bench/east-west: no nginx stream module (scripts/install-bench-peers.sh installs it): the tcp-sidecar path is left out');
  }
  return paths;
}

export interface SidecarRow {
  name: string;
  maxRps: number;
  ratioVsDirect: number;
  cpuUsPerReq: number | undefined;
  wholePathUsPerReq: number | undefined;
  cpuBoundRatio: number | undefined;
  calibratedP50: number | undefined;
  addedP50Ms: number | undefined;
}

/** One result row per sidecar, beside direct's numbers (its max RPS, whole-path µs, p50 at the quoted rate). */
export function sidecarRows(
  paths: SidecarPath[],
  measured: { rps: (name: string) => number; cpu: (name: string) => number | undefined; rest: (name: string) => number | undefined },
  direct: { rps: number; wholeUs: number | undefined; calibrated: Open },
  calibrated: Record<string, Open>,
): SidecarRow[] {
  return paths.map(({ name }) => {
    const [proxy, rest] = [measured.cpu(name), measured.rest(name)];
    const whole = proxy === undefined || rest === undefined ? undefined : proxy + rest;
    const p50 = calibrated[name]?.p50;
    return {
      name,
      maxRps: measured.rps(name),
      ratioVsDirect: measured.rps(name) / direct.rps,
      cpuUsPerReq: proxy,
      wholePathUsPerReq: whole,
      cpuBoundRatio: whole === undefined || direct.wholeUs === undefined ? undefined : direct.wholeUs / whole,
      calibratedP50: p50,
      addedP50Ms: p50 === undefined ? undefined : p50 - direct.calibrated.p50,
    };
  });
}

export function printSidecars(rows: SidecarRow[], rate: number): void {
  const f = (v: number | undefined, d = 0): string => (v === undefined ? '-' : v.toFixed(d));
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(16)} max RPS ${f(r.maxRps)} (${f(r.ratioVsDirect, 2)}× direct 3 IPs, goal ≥ 0.70)  own CPU ${f(r.cpuUsPerReq, 1)} µs/req  whole path ${f(r.wholePathUsPerReq, 1)} µs/req  ` +
        `CPU bound ${f(r.cpuBoundRatio, 2)}  @${rate} req/s p50 ${f(r.calibratedP50, 3)} ms (added ${f(r.addedP50Ms, 3)})`,
    );
  }
}
