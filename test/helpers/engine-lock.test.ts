// The engine lock across processes (as docker test files hold it): shared holders exclude a swarm file's exclusive
// hold and the reverse, and a waiting exclusive hold is not starved by shared holds that come after it.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const LOCK = new URL('./engine-lock.ts', import.meta.url).pathname;

interface Holder {
  child: ChildProcess;
  /** Resolves with `held` once granted, or the error line when refused. */
  outcome: Promise<string>;
  /** Resolves when the line came; a still-waiting holder has not printed anything. */
  settled: () => boolean;
}

/** This runner's environment less node --test's own marker (a child carrying it reports to the runner, not to us). */
function childEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return env;
}

/** A node process asking for the lock in `mode` (waiting up to waitSec); it holds it until killed. */
function holder(dir: string, mode: 'shared' | 'exclusive', waitSec: number): Holder {
  const code = `import('${LOCK}').then((m) => m.holdEngine('${mode}', ${waitSec})).then(() => console.log('held'), (e) => console.log('refused: ' + e.message)); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { env: { ...childEnv(), CMESH_TEST_ENGINE_LOCK_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
  let done = false;
  const outcome = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        done = true;
        resolve(out.trim());
      }
    });
  });
  return { child, outcome, settled: () => done };
}

/** SIGKILLs the holder (a kill lets the OS drop its lock, as when a test process dies) and waits for its exit. */
async function end(h: Holder): Promise<void> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const exited = new Promise((r) => h.child.once('exit', r));
  h.child.kill('SIGKILL');
  await exited;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('shared holds exclude an exclusive one until they end (however they end); a waiting exclusive one goes first', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-lock-'));
  const all: Holder[] = [];
  const start = (mode: 'shared' | 'exclusive', waitSec: number): Holder => {
    const h = holder(dir, mode, waitSec);
    all.push(h);
    return h;
  };
  try {
    const [a, b] = [start('shared', 5), start('shared', 5)];
    assert.deepEqual(await Promise.all([a.outcome, b.outcome]), ['held', 'held'], 'two readers at once');
    assert.match(await start('exclusive', 1).outcome, /^refused: the exclusive engine lock was not granted within 1 s/);
    const writer = start('exclusive', 30);
    await sleep(1500);
    assert.equal(writer.settled(), false, 'the writer waits while readers hold the engine');
    // A reader that comes while the writer waits queues behind it.
    const late = start('shared', 30);
    await end(a);
    await sleep(1000);
    assert.equal(writer.settled(), false, 'one reader still holds it');
    await end(b);
    assert.equal(await writer.outcome, 'held', 'granted once the last reader is gone (SIGKILL releases it)');
    await sleep(1000);
    assert.equal(late.settled(), false, 'the late reader waits for the writer');
    await end(writer);
    assert.equal(await late.outcome, 'held');
  } finally {
    await Promise.all(all.map(end));
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process holding the engine exclusively (a swarm file) makes its own engine calls without waiting on itself', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-lock-'));
  const code = `import('${LOCK}').then(async (m) => { await m.holdEngine('exclusive', 5); await m.holdEngine('shared', 2); console.log('both'); process.exit(0); }, (e) => { console.log(e.message); process.exit(1); });`;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', code], { env: { ...childEnv(), CMESH_TEST_ENGINE_LOCK_DIR: dir } });
    assert.equal(stdout.trim(), 'both');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
