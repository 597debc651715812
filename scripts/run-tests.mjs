#!/usr/bin/env node
// Runs the test tiers with node's test runner through tsx. Node 20's --test takes no globs, so we list files here.
// Usage: node scripts/run-tests.mjs unit|docker|all [--list] [extra node --test args]
//   --list prints every test file the tier would run, one repo-relative path per line, and exits 0.
import { spawnSync } from 'node:child_process';
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

function run(files, concurrency) {
  if (files.length === 0) return 0;
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...extra, ...files];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

let status = 0;
if (tier === 'unit' || tier === 'all') status ||= run(unit, 2);
// Docker tests share one engine and bind ports: run them one file at a time.
if (tier === 'docker' || tier === 'all') {
  const s = run(docker, 1);
  status ||= s;
}
process.exit(status);
