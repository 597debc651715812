// Drives the real `cmesh` binary against a private CMESH_HOME for *.docker.test.ts and bench/: spawn, daemon pid,
// bounded polling, and a teardown that downs the project, stops the daemon and reaps every labelled object.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplicaStatus } from '../../daemon/api/control.ts';
import { cleanupCmeshProjects, cleanupSharedGateway } from './cmesh-project-cleanup.ts';
import { cleanup, ROOT, run } from './docker.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CmeshCli {
  /** Working directory (holds compose.yaml). */
  work: string;
  /** CMESH_HOME of this CLI's daemon. */
  home: string;
  env(): NodeJS.ProcessEnv;
  cmesh(args: string[], timeoutMs?: number): Promise<CliResult>;
  ok(args: string[], timeoutMs?: number): Promise<CliResult>;
  ps(): Promise<ReplicaStatus[]>;
  daemonPid(): Promise<number | undefined>;
  /** Writes the work dir's `file` (compose.yaml): `name: <project>`, `services:`, then `services` (already indented). */
  writeCompose(project: string, services: string, file?: string): Promise<void>;
  /** SIGKILLs the daemon (if any) and waits until it is gone. */
  killDaemon(): Promise<number | undefined>;
  /** Down, daemon stop, label sweep of the project and the run, temp dirs removed. Never throws. */
  teardown(project: string, runId: string): Promise<void>;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (errors count as "not yet") until it returns a value; bounded by timeoutMs. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Container ids carrying `dev.cmesh.project=<project>` (plus extra filters), straight from the engine. */
export async function projectContainers(project: string, extra: string[] = []): Promise<string[]> {
  const out = await run(['ps', '-aq', '--no-trunc', '--filter', `label=dev.cmesh.project=${project}`, ...extra]);
  return out.split('\n').filter(Boolean).sort();
}

export async function newCmeshCli(extraEnv: NodeJS.ProcessEnv = {}): Promise<CmeshCli> {
  const work = await mkdtemp(join(tmpdir(), 'cmesh-e2e-'));
  // Short: the daemon socket path must fit in sockaddr_un.
  const home = await mkdtemp(join(tmpdir(), 'cmh-'));
  // The engine is shared by parallel test runs (and their cmesh versions): a test daemon never cleans up gateway images
  // it did not make unless the test says which ones (CMESH_GATEWAY_IMAGE_GC=<its run label>).
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    CMESH_HOME: home,
    NO_COLOR: '1',
    CMESH_METRICS_ADDR: '127.0.0.1:0',
    CMESH_GATEWAY_IMAGE_GC: 'off',
    ...extraEnv,
  });

  const cmesh = (args: string[], timeoutMs = 90_000): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), ...args], { cwd: work, env: env(), timeout: timeoutMs });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  const ok = async (args: string[], timeoutMs?: number): Promise<CliResult> => {
    const r = await cmesh(args, timeoutMs);
    assert.equal(r.code, 0, `cmesh ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r;
  };

  const daemonPid = async (): Promise<number | undefined> => {
    const pid = Number.parseInt(await readFile(join(home, 'daemon.pid'), 'utf8').catch(() => ''), 10);
    return pid > 0 ? pid : undefined;
  };

  const killDaemon = async (): Promise<number | undefined> => {
    const pid = await daemonPid();
    if (!pid || !alive(pid)) return undefined;
    process.kill(pid, 'SIGKILL');
    await until('the daemon to die', 5000, async () => (alive(pid) ? undefined : true), 10);
    return pid;
  };

  return {
    work,
    home,
    env,
    cmesh,
    ok,
    ps: async () => JSON.parse((await ok(['ps', '-a', '--json'])).stdout) as ReplicaStatus[],
    daemonPid,
    writeCompose: (project, services, file = 'compose.yaml') => writeFile(join(work, file), `name: ${project}\nservices:\n${services}`),
    killDaemon,
    teardown: async (project, runId) => {
      await cmesh(['down', '-v', '--remove-orphans'], 60_000).catch(() => undefined);
      await cmesh(['daemon', 'stop'], 30_000).catch(() => undefined);
      await killDaemon().catch(() => undefined);
      // What cmesh made with only its own labels (gateways, networks, volumes); a leftover is said, never thrown.
      await cleanupSharedGateway(home).catch((e: unknown) => process.stderr.write(`teardown of ${home}'s shared gateway: ${(e as Error).message}\n`));
      await cleanupCmeshProjects([project]).catch((e: unknown) => process.stderr.write(`teardown of ${project}: ${(e as Error).message}\n`));
      await cleanup(runId).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}
