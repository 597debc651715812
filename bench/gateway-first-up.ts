// A machine's very first meshed `up`: the daemon has to build the gateway image (FROM scratch, the host's ~99 MB node
// and its libraries). Each round runs, interleaved, a fresh daemon + `up -d --wait` of one meshed echo service
// (2 replicas) twice: once with the image present, once with CMESH_GATEWAY_IMAGE_SALT making the daemon's image a new
// one (a real build, as on a machine that never had it), and prints both times, the daemon's own note of when its
// image was ready, when (after the `up` began) the replicas and the gateway started, and the load average.
// Usage: npx tsx bench/gateway-first-up.ts [--reps N]
// Everything is labelled with the run and removed at the end (the salted images by their tags), even on failure.

import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { newCmeshCli } from '../test/helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run } from '../test/helpers/docker.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { benchArgs } from './args.ts';

const USAGE = 'usage: npx tsx bench/gateway-first-up.ts [--reps N]';
const opts = benchArgs(USAGE, { reps: { type: 'number' } });
const REPS = opts.reps || 3;

type Side = 'present' | 'build';
interface Row {
  round: number;
  side: Side;
  upMs: number;
  /** "east-west gateway image … ready (N ms after the daemon's start)" from the daemon's log. */
  imageReadyMs: number | undefined;
  /** When the last replica and the gateway started (the engine's StartedAt), in ms after the `up` began. */
  replicasMs: number;
  gatewayMs: number;
  load: string;
}

/** ms after `t0` (wall clock) at which the project's replicas (the last of them) and its gateway started. */
async function startedAfter(project: string, t0: number): Promise<{ replicasMs: number; gatewayMs: number }> {
  const ids = (await run(['ps', '-aq', '--filter', `label=dev.cmesh.project=${project}`])).split('\n').filter(Boolean);
  const lines = (await run(['inspect', '-f', '{{.Name}} {{.State.StartedAt}}', ...ids])).split('\n');
  const at = lines.map((l) => ({ gateway: l.includes('-cmesh-gateway'), ms: Date.parse(l.split(' ')[1]!) - t0 }));
  return { replicasMs: Math.max(...at.filter((a) => !a.gateway).map((a) => a.ms)), gatewayMs: Math.max(...at.filter((a) => a.gateway).map((a) => a.ms)) };
}

async function once(round: number, side: Side, echo: string, salted: string[]): Promise<Row> {
  const runId = newRunId(`gwfirst-${side}`);
  const salt = side === 'build' ? runId : undefined;
  const cli = await newCmeshCli(salt === undefined ? {} : { CMESH_GATEWAY_IMAGE_SALT: salt });
  const load0 = loadavg()[0]!.toFixed(1);
  try {
    const api = [
      '  api:',
      `    image: ${echo}`,
      '    deploy: { replicas: 2 }',
      '    expose: ["3000"]',
      '    x-cmesh: { health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }',
      serviceLabels(runId),
    ];
    await cli.writeCompose(runId, api.join('\n'));
    // The CLI starts the daemon itself, as on a first use: its background image preparation starts with it.
    const wall0 = Date.now();
    const t0 = performance.now();
    await cli.ok(['up', '-d', '--wait', '--timeout', '300'], 400_000);
    const upMs = performance.now() - t0;
    const started = await startedAfter(runId, wall0);
    const log = await readFile(join(cli.home, 'daemon.log'), 'utf8').catch(() => '');
    const ready = /east-west gateway image (\S+) ready \((\d+) ms after the daemon's start\)/.exec(log);
    if (salt !== undefined && ready) salted.push(ready[1]!);
    return { round, side, upMs, imageReadyMs: ready ? Number(ready[2]) : undefined, ...started, load: `${load0} → ${loadavg()[0]!.toFixed(1)}` };
  } finally {
    await cli.teardown(runId, runId);
  }
}

await requireDocker();
const echo = await buildFixtureImage('echo');
const salted: string[] = [];
const rows: Row[] = [];
try {
  // Warm-up: the unsalted image exists (any daemon of this cmesh builds it once), so `present` is what it says.
  await once(0, 'present', echo, salted);
  for (let r = 1; r <= REPS; r++) {
    const order: Side[] = r % 2 === 1 ? ['build', 'present'] : ['present', 'build'];
    for (const side of order) {
      const row = await once(r, side, echo, salted);
      rows.push(row);
      console.log(`round ${row.round} ${row.side}: up -d --wait ${row.upMs.toFixed(0)} ms; image ready ${row.imageReadyMs ?? '?'} ms after the daemon's start; replicas started at +${row.replicasMs} ms, gateway at +${row.gatewayMs} ms; load ${row.load}`);
    }
  }
} finally {
  for (const tag of salted) await run(['rmi', tag]).catch((e: Error) => console.log(`rmi ${tag}: ${e.message}`));
}
const med = (side: Side) => {
  const v = rows.filter((r) => r.side === side).map((r) => r.upMs).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] ?? Number.NaN;
};
console.log(`median up -d --wait: image present ${med('present').toFixed(0)} ms, image built ${med('build').toFixed(0)} ms`);
