// One host-wide lock on the shared Docker engine for docker test processes: a swarm e2e file joins the engine to a
// swarm and leaves it again, and Docker 20.10 then stops answering DNS for names of containers already on bridge
// networks (moby/moby#45144: `swarm init` + `swarm leave` on a running compose project; callers get NXDOMAIN, node's
// ENOTFOUND, while `docker inspect` still shows the aliases). CI runs docker files one at a time, so only engineers
// running files side by side on one engine saw it (an east-west caller failing `front` for a whole load). A swarm
// file holds the lock exclusively for its whole run; every other docker test process holds it shared from its first
// engine call until it exits. flock(1) holds it: a child that keeps the lock until our end of its stdin closes, which
// the kernel does when this process exits, however it ends.

import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The lock files, host-wide (every worktree's tests share the engine). Overridable for the lock's own test. */
const dir = (): string => process.env['CMESH_TEST_ENGINE_LOCK_DIR'] ?? tmpdir();

/** Waiting longer than this for the engine means a stuck holder: fail (or skip) with a reason instead of hanging. */
export const ENGINE_LOCK_WAIT_SEC = Number(process.env['CMESH_TEST_ENGINE_LOCK_WAIT_SEC'] ?? 900);

export type EngineLockMode = 'shared' | 'exclusive';

let held: { mode: EngineLockMode; ready: Promise<void> } | undefined;

/**
 * The shell script the flock child runs. A writer queues at a turnstile and keeps it, so readers that come later wait
 * behind it instead of starving it; a reader only passes through the turnstile. `held` tells us the lock is ours.
 */
function script(mode: EngineLockMode, waitSec: number): string {
  const hold = `flock -w ${waitSec} -${mode === 'shared' ? 's' : 'x'} "$2" sh -c 'echo held; exec cat'`;
  return mode === 'shared' ? `flock -w ${waitSec} -x "$1" true && exec ${hold}` : `exec flock -w ${waitSec} -x "$1" ${hold}`;
}

function acquire(mode: EngineLockMode, waitSec: number): Promise<void> {
  const child = spawn('sh', ['-c', script(mode, waitSec), 'engine-lock', join(dir(), 'cmesh-e2e-engine.turn'), join(dir(), 'cmesh-e2e-engine.lock')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!out.includes('held')) return;
      // Held until this process exits: neither the child nor its pipes may keep the event loop alive.
      child.unref();
      child.stdout.destroy();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (out.includes('held')) return;
      // No flock(1) on this machine (util-linux is on every Debian/Ubuntu): run as before the lock, and say so.
      if (code === 127) {
        process.stderr.write('engine-lock: flock(1) not found; running without the engine lock (a swarm e2e file beside this run may break its DNS)\n');
        resolve();
        return;
      }
      reject(new Error(`the ${mode} engine lock was not granted within ${waitSec} s (flock exit ${code}): another test run holds the engine`));
    });
  });
}

/**
 * Holds the engine lock in `mode` for the rest of this process (once: later calls return the first hold). A process
 * that holds it exclusively never also asks for it shared (that would wait on itself).
 */
export function holdEngine(mode: EngineLockMode, waitSec = ENGINE_LOCK_WAIT_SEC): Promise<void> {
  if (held && (held.mode === mode || held.mode === 'exclusive')) return held.ready;
  if (held) return Promise.reject(new Error('this test process already holds the engine shared; take it exclusively before any engine call'));
  const ready = acquire(mode, waitSec);
  held = { mode, ready };
  return ready;
}
