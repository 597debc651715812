// Helpers for *.docker.test.ts: drive the real engine through the docker CLI, label everything, reap by run id.
// Deliberately CLI-only (no dockerode) so these tests exercise nothing of the code they are testing.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { holdEngine } from './engine-lock.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** On everything a test creates; scripts/reap.sh removes whatever carries it. */
export const TEST_LABEL = 'dev.cmesh.test';
/** Per-test-run id, so cleanup(runId) touches only what this run made. */
export const RUN_LABEL = 'dev.cmesh.test-run';

export class DockerCliError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`docker ${args.join(' ')} failed (exit ${exitCode ?? '?'}): ${stderr.trim() || '(no stderr)'}`);
    this.name = 'DockerCliError';
  }
}

export interface ExecOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function exec(file: string, args: readonly string[], opts: ExecOptions = {}) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ?? process.env,
        cwd: opts.cwd ?? ROOT,
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          const killed = error.killed ? ` (killed after ${opts.timeoutMs ?? 120_000}ms)` : '';
          reject(
            file === 'docker'
              ? new DockerCliError(args, code, `${stderr}${killed}`)
              : Object.assign(error, { stdout, stderr: `${stderr}${killed}` }),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * Runs `docker <args>` and returns its stdout with the trailing newline trimmed; throws DockerCliError. The first call
 * holds the engine lock shared for the rest of the process (engine-lock.ts: not while a swarm file toggles swarm mode).
 */
export async function run(args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  await holdEngine('shared');
  const { stdout } = await exec('docker', args, opts);
  return stdout.trimEnd();
}

/**
 * The first statement after the imports of every docker test file but a swarm one (that takes the lock exclusively
 * through swarmTestFile): holds the engine lock shared for the whole file, before its first engine call, whichever way
 * that call goes (the docker CLI, dockerode, a cmesh daemon), so a swarm file never runs beside it (engine-lock.ts).
 * docker-files-lock.test.ts fails a docker test file that does not.
 */
export function dockerTestFile(): Promise<void> {
  return holdEngine('shared');
}

export async function dockerAvailable(): Promise<boolean> {
  try {
    await run(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Docker tests fail (never skip) without an engine: CI always has one through scripts/ensure-docker.sh. */
export async function requireDocker(): Promise<void> {
  if (!(await dockerAvailable())) {
    throw new Error('no Docker engine answers `docker info`: run `bash scripts/ensure-docker.sh` first');
  }
}

/** A fresh id for one test file's run, e.g. `echo-m3x9k2-a1b2c3`. */
export function newRunId(prefix = 'run'): string {
  const slug = prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 24);
  return `${slug}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testLabels(runId: string): Record<string, string> {
  return { [TEST_LABEL]: 'true', [RUN_LABEL]: runId };
}

export interface StartOptions {
  image: string;
  runId: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** Container ports to publish on 127.0.0.1 with engine-assigned host ports. */
  publish?: number[];
  name?: string;
  /** Replaces the image's CMD. */
  command?: string[];
  /** Extra `docker run` flags, inserted before the image. */
  args?: string[];
}

export interface StartedContainer {
  id: string;
  /** Host port of the first published container port; 0 when nothing was published. */
  hostPort: number;
  /** Container port → host port on 127.0.0.1, for every published port. */
  ports: Record<number, number>;
}

/** `docker run -d` with the test labels; never publishes on anything but 127.0.0.1. */
export async function startContainer(opts: StartOptions): Promise<StartedContainer> {
  const args = ['run', '-d'];
  for (const [k, v] of Object.entries({ ...opts.labels, ...testLabels(opts.runId) })) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  for (const port of opts.publish ?? []) args.push('-p', `127.0.0.1::${port}`);
  if (opts.name) args.push('--name', opts.name);
  args.push(...(opts.args ?? []), opts.image, ...(opts.command ?? []));
  const id = await run(args);
  const ports = await publishedPorts(id);
  const first = opts.publish?.[0];
  return { id, hostPort: first === undefined ? 0 : (ports[first] ?? 0), ports };
}

/**
 * How long this engine takes to start a container (the median of 3 `docker start`s of a labelled busybox, on the
 * default bridge network like a replica): the part of a restart that is the engine's, not cmesh's. It was ~0.3 s on
 * one machine and ~0.55 s on another, so timing assertions add it instead of assuming it.
 */
export async function engineStartMs(runId: string): Promise<number> {
  const id = await run(['create', ...Object.entries(testLabels(runId)).flatMap(([k, v]) => ['--label', `${k}=${v}`]), 'cmesh/busybox:local', 'sleep', '30']);
  try {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await run(['start', id]);
      times.push(performance.now() - t0);
      await run(['kill', id]);
      await waitForExit(id, 10_000);
    }
    return Math.round(times.sort((a, b) => a - b)[1]!);
  } finally {
    await run(['rm', '-f', id]).catch(() => undefined);
  }
}

/** Reads the engine-assigned 127.0.0.1 host ports of a container. */
export async function publishedPorts(id: string): Promise<Record<number, number>> {
  const raw = await run(['inspect', '--format', '{{json .NetworkSettings.Ports}}', id]);
  const bindings = JSON.parse(raw) as Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  const out: Record<number, number> = {};
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const binding = list?.find((b) => b.HostIp === '127.0.0.1');
    if (binding) out[Number.parseInt(key, 10)] = Number(binding.HostPort);
  }
  return out;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  OOMKilled: boolean;
  Health?: { Status: string };
}

export async function inspectState(id: string): Promise<ContainerState> {
  return JSON.parse(await run(['inspect', '--format', '{{json .State}}', id])) as ContainerState;
}

/** Waits for the container to exit and returns its exit code (bounded by timeoutMs). */
export async function waitForExit(id: string, timeoutMs = 30_000): Promise<number> {
  return Number(await run(['wait', id], { timeoutMs }));
}

/** stdout and stderr of a container, concatenated. */
export async function containerLogs(id: string): Promise<string> {
  const { stdout, stderr } = await exec('docker', ['logs', id]);
  return stdout + stderr;
}

type EngineKind = 'container' | 'network' | 'volume' | 'image';

/** Ids of the engine objects of `kind` that match a `docker … --filter` expression. */
export async function idsOf(kind: EngineKind, filter: string): Promise<string[]> {
  const args =
    kind === 'container'
      ? ['ps', '-aq', '--filter', filter]
      : kind === 'image'
        ? ['images', '-q', '--filter', filter]
        : [kind, 'ls', '-q', '--filter', filter];
  const out = await run(args, { timeoutMs: 30_000 });
  return [...new Set(out.split('\n').filter(Boolean))];
}

const FORCE_REMOVE: Record<EngineKind, string[]> = {
  container: ['rm', '-f', '-v'],
  network: ['network', 'rm'],
  volume: ['volume', 'rm', '-f'],
  image: ['rmi', '-f'],
};

/** How often, and how far apart, a removal the engine refused is tried again. */
const REMOVE_ATTEMPTS = 10;
const REMOVE_RETRY_MS = 300;

/**
 * Force-removes the objects of each kind that match `filter`, kinds in the order given (containers before the
 * networks and volumes they hold). Just after its containers' forced removal the engine can still hold a network's
 * endpoints ("active endpoints") for a moment, so a refused removal is tried again for ~3 s (listing afresh) before it
 * counts. Tries every kind even when one fails and returns the failures.
 */
export async function removeMatching(filter: string, kinds: readonly EngineKind[]): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const kind of kinds) {
    for (let attempt = 1; ; attempt++) {
      try {
        const ids = await idsOf(kind, filter);
        if (ids.length > 0) await run([...FORCE_REMOVE[kind], ...ids], { timeoutMs: 60_000 });
        break;
      } catch (error) {
        if (attempt === REMOVE_ATTEMPTS) {
          errors.push(error);
          break;
        }
        await new Promise((r) => setTimeout(r, REMOVE_RETRY_MS));
      }
    }
  }
  return errors;
}

/**
 * Force-removes every container, network, volume and image labelled with this run id. Call it from `after` or a
 * `finally`; it tries every kind even when one fails, then throws the collected failures.
 */
export async function cleanup(runId: string): Promise<void> {
  const errors = await removeMatching(`label=${RUN_LABEL}=${runId}`, ['container', 'network', 'volume', 'image']);
  if (errors.length > 0) throw new AggregateError(errors, `cleanup of test run ${runId} failed`);
}

let baseImages: Promise<void> | undefined;

/** Runs scripts/build-base-images.sh once per process (it skips unchanged images itself). */
export function ensureBaseImages(): Promise<void> {
  baseImages ??= exec('bash', [`${ROOT}scripts/build-base-images.sh`], { timeoutMs: 300_000 }).then(
    () => undefined,
    (error: unknown) => {
      baseImages = undefined;
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`scripts/build-base-images.sh failed: ${stderr || String(error)}`);
    },
  );
  return baseImages;
}

const fixtureImages = new Map<string, Promise<string>>();

/**
 * Builds fixtures/docker/<name> as `cmesh-fixture/<name>:test` (after the base images) and returns the tag. The
 * image carries the test label, so scripts/reap.sh removes it; `dev.cmesh.base` inherited from the base is reset.
 */
export function buildFixtureImage(name: string): Promise<string> {
  let pending = fixtureImages.get(name);
  if (!pending) {
    const tag = `cmesh-fixture/${name}:test`;
    pending = ensureBaseImages()
      .then(() =>
        run(
          [
            'build',
            '--quiet',
            '--label',
            `${TEST_LABEL}=true`,
            '--label',
            'dev.cmesh.base=false',
            '-t',
            tag,
            `${ROOT}fixtures/docker/${name}`,
          ],
          { timeoutMs: 300_000, env: { ...process.env, DOCKER_BUILDKIT: '0' } },
        ),
      )
      .then(() => tag);
    pending.catch(() => fixtureImages.delete(name));
    fixtureImages.set(name, pending);
  }
  return pending;
}
