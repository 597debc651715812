#!/usr/bin/env node
// Runs the test tiers with node's test runner through tsx. Node 20's --test takes no globs, so we list files here.
// Usage: node scripts/run-tests.mjs unit|docker|all [--list] [extra node --test args]
//   --list prints every test file the tier would run, one repo-relative path per line, and exits 0.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const tier = process.argv[2] ?? 'all';
const rest = process.argv.slice(3);
const listOnly = rest.includes('--list');
const extra = rest.filter((a) => a !== '--list');
// Skipped anywhere in the tree.
const skipDirs = new Set(['node_modules', '.git']);
// Skipped only at the top level: fixtures/ holds the sources of test services (their own package trees), not our
// tests; test/fixtures/ holds tests of those services and must run.
const skipTopLevel = new Set(['fixtures']);

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (skipDirs.has(entry.name)) continue;
      if (dir === root && skipTopLevel.has(entry.name)) continue;
      walk(join(dir, entry.name), out);
    } else if (/\.test\.tsx?$/.test(entry.name)) {
      out.push(relative(root, join(dir, entry.name)));
    }
  }
  return out;
}

if (!['unit', 'docker', 'all'].includes(tier)) {
  console.error(`unknown tier ${tier}: use unit, docker or all`);
  process.exit(2);
}

const all = walk(root, []).sort();
const isDocker = (f) => /\.docker\.test\.tsx?$/.test(f);
const unit = all.filter((f) => !isDocker(f));
const docker = all.filter(isDocker);
const selected = { unit, docker, all: [...unit, ...docker] }[tier];

if (listOnly) {
  process.stdout.write(selected.map((f) => `${f}\n`).join(''));
  process.exit(0);
}

/** Runs `files` under node --test; output to ours, or kept and handed back when `keepOutput`. */
function run(files, concurrency, { keepOutput = false } = {}) {
  if (files.length === 0) return Promise.resolve({ status: 0, output: '' });
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...extra, ...files];
  const child = spawn(process.execPath, args, { cwd: root, stdio: keepOutput ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: process.env });
  let output = '';
  if (keepOutput) for (const s of [child.stdout, child.stderr]) s.on('data', (d) => (output += d));
  return new Promise((resolve) => {
    child.on('error', (err) => resolve({ status: 1, output: `${output}${err.stack}\n` }));
    child.on('close', (code) => resolve({ status: code ?? 1, output }));
  });
}

// Soaks run for a fixed wall time and mostly wait: the logs -f + restart fd soak runs 5 minutes because issue #7's
// acceptance says so. They bind no host port, drive only their own daemon and project, and judge only their own
// daemon, so they run beside the serial docker files instead of adding their minutes to the tier. Their output is
// printed when they end, so it does not interleave with the serial files' TAP.
const soaks = new Set(['test/e2e/logs-fd.docker.test.ts']);

/**
 * What an earlier run left on the engine (a run killed mid-file, a machine stopped under it: containers of a project
 * that never got its cleanup) goes before the docker files run, but only while no docker test process on this host is
 * live (`reap.sh --if-idle` takes the engine lock without waiting), so a run beside ours loses nothing. A reap that
 * cannot run is reported and the files still run: they fail on their own if the engine is missing.
 */
function reapLeftovers() {
  if (!docker.length) return Promise.resolve();
  const child = spawn('bash', [join(root, 'scripts/reap.sh'), '--if-idle'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  return new Promise((resolve) => {
    child.on('error', (err) => {
      console.error(`reap before the docker tier did not run: ${err.message}`);
      resolve();
    });
    child.on('close', (code) => {
      if (code !== 0) console.error(`reap before the docker tier exited ${code}; the docker files run anyway`);
      resolve();
    });
  });
}

let status = 0;
if (tier === 'unit' || tier === 'all') status ||= (await run(unit, 2)).status;
// Docker tests share one engine and bind ports: run them one file at a time (soaks aside, see above).
if (tier === 'docker' || tier === 'all') {
  await reapLeftovers();
  const soak = run(docker.filter((f) => soaks.has(f)), 1, { keepOutput: true });
  const serial = await run(docker.filter((f) => !soaks.has(f)), 1);
  const background = await soak;
  if (background.output) process.stdout.write(`# soaks run beside the serial docker files: ${[...soaks].join(', ')}\n${background.output}`);
  status ||= serial.status || background.status;
}
process.exit(status);
