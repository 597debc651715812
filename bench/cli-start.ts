// CLI start benchmark (issue #15 part 1: every verb starts fast). A real daemon (own CMESH_HOME) and a real running
// project (2 busybox httpd replicas); docker-compose 1.29 runs the same services as its own project beside it.
// cmesh runs as a user's shell runs it: through npm's link to the installed command, bin/cmesh (package.json "bin",
// a sh launcher that keeps the host's NODE_EXTRA_CA_CERTS from node's eager start-up parse); `node bin/cmesh.js` beside
// it is the same CLI without the launcher. Run it with the host's environment and under `env -u NODE_EXTRA_CA_CERTS`.
// Each case is one process start, timed by bash around the command: wall ($EPOCHREALTIME) and CPU (user+sys of the
// child from `times`, which load bends far less than wall). Rounds are interleaved (every case once per step, the
// order reversed every other round) so each ratio compares runs taken under the same load.
//   node -e 0 (the floor, and without NODE_EXTRA_CA_CERTS) · cmesh --version · cmesh ps · cmesh ps with CMESH_PROJECT_CACHE=0 (the full compose load)
//   · cmesh ps with CMESH_FAST_PATH=0 (the full CLI) · cmesh -p <name> ls · cmesh up -d (no-op) · docker-compose ps
//   · node bin/cmesh.js ps and up -d (no-op) · docker-compose up -d (no-op)
// Usage: npx tsx bench/cli-start.ts [--rounds N] [--reps N] [--baseline <checkout>] [--json]   (needs docker-compose 1.29 and cmesh/busybox:local:
// scripts/build-base-images.sh). Everything is labelled dev.cmesh.test=true plus a run label and removed at the end.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanup, newRunId, ROOT, run, testLabels } from '../test/helpers/docker.ts';
import { benchArgs } from './args.ts';
import { median } from './median.ts';
import { cleanupSharedGateway } from '../test/helpers/cmesh-project-cleanup.ts';

const opts = benchArgs('usage: npx tsx bench/cli-start.ts [--rounds N] [--reps N] [--baseline <checkout>] [--json]', {
  rounds: { type: 'number' },
  reps: { type: 'number' },
  baseline: { type: 'string' },
  json: { type: 'boolean' },
});
const ROUNDS = opts.rounds || 3;
const REPS = opts.reps || 5;
const JSON_OUT = opts.json === true;
/** Another checkout's CLI (e.g. main's) run against the same daemon and project, for a before/after in one run. */
const BASELINE = opts.baseline;
const IMAGE = 'cmesh/busybox:local';
const runId = newRunId('bench-cli');
const cmeshProject = `${runId}-cm`;
const composeProject = `${runId.replace(/-/g, '')}dc`;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Sample {
  wallMs: number;
  cpuMs: number;
}
interface Case {
  name: string;
  argv: string[];
  /** Merged over the bench's env; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

let work = '';
const env = (): NodeJS.ProcessEnv => ({ ...process.env, CMESH_HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'xdg'), NO_COLOR: '1' });
/** The command as npm installs it: a symlink in node_modules/.bin to bin/cmesh (cases run in the work dir). */
const LINKED = join('node_modules', '.bin', 'cmesh');
const cmeshArgv = (...rest: string[]): string[] => [`./${LINKED}`, ...rest];
/** The same CLI without the launcher (how tests and scripts call it), and a checkout's CLI: its launcher if it has one. */
const nodeArgv = (checkout: string, ...rest: string[]): string[] => [process.execPath, join(checkout, 'bin/cmesh.js'), ...rest];
const checkoutArgv = (checkout: string, ...rest: string[]): string[] =>
  existsSync(join(checkout, 'bin/cmesh')) ? [join(checkout, 'bin/cmesh'), ...rest] : nodeArgv(checkout, ...rest);
const composeArgv = (...rest: string[]): string[] => ['docker-compose', '-p', composeProject, '-f', 'compose-1.29.yaml', ...rest];

const CASES: Case[] = [
  { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
  { name: 'node -e 0 (no extra CAs)', argv: [process.execPath, '-e', '0'], env: { NODE_EXTRA_CA_CERTS: undefined } },
  { name: 'cmesh --version', argv: cmeshArgv('--version') },
  { name: 'cmesh ps', argv: cmeshArgv('ps') },
  { name: 'cmesh ps (no project cache)', argv: cmeshArgv('ps'), env: { CMESH_PROJECT_CACHE: '0' } },
  // The full CLI (ES module bundle) for the same `ps`: what the fast bundle (cli/fast-entry.ts) saves, in one run.
  { name: 'cmesh ps (full CLI)', argv: cmeshArgv('ps'), env: { CMESH_FAST_PATH: '0' } },
  { name: 'cmesh -p ls', argv: cmeshArgv('-p', cmeshProject, 'ls') },
  { name: 'cmesh up -d (no-op)', argv: cmeshArgv('up', '-d') },
  { name: 'node bin/cmesh.js ps', argv: nodeArgv(ROOT, 'ps') },
  { name: 'node bin/cmesh.js up -d', argv: nodeArgv(ROOT, 'up', '-d') },
  // The baseline keeps its own project cache: both CLIs' entries for this project share a file name, and each build's
  // entry invalidates the other's, so alternating runs would measure every `ps` of both with a cache miss. (Relative:
  // every case runs in the work dir.)
  ...(BASELINE
    ? [
        { name: 'baseline ps', argv: checkoutArgv(BASELINE, 'ps'), env: { XDG_CACHE_HOME: 'xdg-baseline' } },
        {
          name: 'baseline up -d (no-op)',
          argv: checkoutArgv(BASELINE, 'up', '-d'),
          env: { XDG_CACHE_HOME: 'xdg-baseline' },
        },
      ]
    : []),
  { name: 'docker-compose ps', argv: composeArgv('ps') },
  { name: 'docker-compose up -d (no-op)', argv: composeArgv('up', '-d') },
];

// `times` prints the shell's own and then its children's user/sys as `0m0.120s 0m0.030s`.
const TIMED = 's=$EPOCHREALTIME; "$@" >/dev/null 2>"$ERR"; rc=$?; e=$EPOCHREALTIME; times; echo "$s $e $rc"';
const seconds = (t: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  if (!m) throw new Error(`cannot read time "${t}"`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/** One start of `c`, timed by bash; throws on a non-zero exit (a failing command is not a measurement). */
function once(c: Case): Promise<Sample> {
  const errFile = join(work, 'last-stderr');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', TIMED, '_', ...c.argv], { cwd: work, env: { ...env(), ...c.env, ERR: errFile }, timeout: 60_000 });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      const lines = out.trim().split('\n');
      const [start, end, rc] = (lines[2] ?? '').split(' ');
      const [user, sys] = (lines[1] ?? '').split(' ');
      if (rc !== '0') {
        const stderr = spawnSync('tail', ['-c', '2000', errFile], { encoding: 'utf8' }).stdout;
        reject(new Error(`${c.name} exited ${rc}:\n${stderr}`));
        return;
      }
      resolve({ wallMs: (Number(end) - Number(start)) * 1000, cpuMs: (seconds(user!) + seconds(sys!)) * 1000 });
    });
  });
}

async function setUp(): Promise<void> {
  work = await mkdtemp(join(tmpdir(), 'cmesh-bench-cli-'));
  await mkdir(join(work, dirname(LINKED)), { recursive: true });
  await symlink(join(ROOT, 'bin', 'cmesh'), join(work, LINKED));
  const labels = Object.entries(testLabels(runId)).map(([k, v]) => `      ${k}: "${v}"\n`).join('');
  const service = (scale: string): string =>
    `  web:\n    image: ${IMAGE}\n    command: ["sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec busybox httpd -f -p 8080 -h /www"]\n` +
    `    stop_grace_period: 1s\n    labels:\n${labels}${scale}`;
  await writeFile(join(work, 'compose.yaml'), `name: ${cmeshProject}\nservices:\n${service('    deploy:\n      replicas: 2\n')}`);
  await writeFile(join(work, 'compose-1.29.yaml'), `version: "2.4"\nservices:\n${service('    scale: 2\n')}`);
  await once({ name: 'cmesh up', argv: cmeshArgv('up', '-d', '--wait') });
  await once({ name: 'compose up', argv: composeArgv('up', '-d') });
  // Untimed warm-up: the CLI bundle built, the project cache written (its entry is trusted 2 s after the file's mtime).
  await new Promise((r) => setTimeout(r, 2500));
  for (const c of CASES) await once(c);
}

async function tearDown(): Promise<void> {
  if (!work) return;
  const quiet = { name: 'teardown', argv: [] as string[] };
  await once({ ...quiet, argv: cmeshArgv('down') }).catch((e: unknown) => log(`cmesh down: ${String(e)}`));
  await once({ ...quiet, argv: cmeshArgv('daemon', 'stop') }).catch((e: unknown) => log(`daemon stop: ${String(e)}`));
  await cleanupSharedGateway(join(work, 'home')).catch((e: unknown) => log(`shared gateway: ${String(e)}`));
  await once({ ...quiet, argv: composeArgv('down', '-t', '1') }).catch((e: unknown) => log(`compose down: ${String(e)}`));
  await cleanup(runId).catch((e: unknown) => log(`cleanup: ${String(e)}`));
  await rm(work, { recursive: true, force: true });
}

interface RoundResult {
  round: number;
  loadStart: number;
  loadEnd: number;
  medians: Record<string, Sample>;
}

async function measure(): Promise<RoundResult[]> {
  const rounds: RoundResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const loadStart = loadavg()[0]!;
    const samples = new Map<string, Sample[]>(CASES.map((c) => [c.name, []]));
    const order = r % 2 ? [...CASES].reverse() : CASES;
    for (let i = 0; i < REPS; i++) for (const c of order) samples.get(c.name)!.push(await once(c));
    const medians = Object.fromEntries(
      [...samples].map(([name, xs]) => [name, { wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) }]),
    );
    rounds.push({ round: r + 1, loadStart, loadEnd: loadavg()[0]!, medians });
    log(`round ${r + 1}/${ROUNDS} done (load ${loadStart.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`);
  }
  return rounds;
}

function report(rounds: RoundResult[]): void {
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify({ runId, rounds: ROUNDS, reps: REPS, results: rounds }, null, 1)}\n`);
    return;
  }
  const f = (s: Sample): string => `${s.wallMs.toFixed(0)} / ${s.cpuMs.toFixed(0)}`;
  for (const r of rounds) {
    const m = r.medians;
    const ratio = (a: string, b: string): string =>
      `${(m[a]!.wallMs / m[b]!.wallMs).toFixed(2)} wall, ${(m[a]!.cpuMs / m[b]!.cpuMs).toFixed(2)} CPU`;
    process.stdout.write(`round ${r.round}, load ${r.loadStart.toFixed(1)} → ${r.loadEnd.toFixed(1)}, median of ${REPS}, wall / CPU ms:\n`);
    for (const c of CASES) process.stdout.write(`  ${c.name.padEnd(30)} ${f(m[c.name]!)}\n`);
    process.stdout.write(`  cmesh ps ÷ compose ps: ${ratio('cmesh ps', 'docker-compose ps')}\n`);
    process.stdout.write(`  no-op up ÷ compose no-op up: ${ratio('cmesh up -d (no-op)', 'docker-compose up -d (no-op)')}\n`);
    process.stdout.write(`  launcher ÷ node bin/cmesh.js: ps ${ratio('cmesh ps', 'node bin/cmesh.js ps')}; up -d ${ratio('cmesh up -d (no-op)', 'node bin/cmesh.js up -d')}\n`);
    if (BASELINE) process.stdout.write(`  baseline no-op up ÷ compose no-op up: ${ratio('baseline up -d (no-op)', 'docker-compose up -d (no-op)')}\n`);
    const floor = m['node -e 0 (no extra CAs)']!;
    const above = (c: string): string => `${(m[c]!.wallMs - floor.wallMs).toFixed(0)} / ${(m[c]!.cpuMs - floor.cpuMs).toFixed(0)}`;
    process.stdout.write(`  above node's floor without extra CAs: ps ${above('cmesh ps')}, --version ${above('cmesh --version')}\n`);
  }
}

async function main(): Promise<void> {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) {
    log('bench/cli-start.ts needs docker-compose 1.29 (Debian): apt-get install -y docker-compose');
    process.exit(2);
  }
  await run(['image', 'inspect', IMAGE]).catch(() => {
    throw new Error(`${IMAGE} is missing: run scripts/build-base-images.sh`);
  });
  try {
    await setUp();
    report(await measure());
  } finally {
    await tearDown();
  }
}

await main();
