// A single-node swarm for the one swarm e2e file: join the engine to a swarm only when it is in none, and leave again
// only when this process made it. The engine is shared, so nothing here touches what another run created.

import { after } from 'node:test';
import { type CmeshCli, newCmeshCli, sleep, until } from './cmesh-cli.ts';
import { ensureBaseImages, RUN_LABEL, requireDocker, run, TEST_LABEL } from './docker.ts';
import { holdEngine } from './engine-lock.ts';
import { freePort } from './free-port.ts';
import { loopbackPool, type Outcome, pacedLoad } from './load.ts';

export interface SwarmSession {
  /** True when this process ran `swarm init` (and so must `swarm leave --force`). */
  initialized: boolean;
  /** Set when `swarm init` itself failed: the caller skips with this reason. */
  skip?: string;
}

async function localNodeState(): Promise<string> {
  return run(['info', '--format', '{{.Swarm.LocalNodeState}}'], { timeoutMs: 15_000 });
}

async function ensureSwarm(): Promise<SwarmSession> {
  const state = await localNodeState();
  if (state === 'active') {
    const manager = await run(['info', '--format', '{{.Swarm.ControlAvailable}}'], { timeoutMs: 15_000 });
    if (manager !== 'true') return { initialized: false, skip: 'this engine is a swarm worker, not a manager; the test needs a manager' };
    return { initialized: false };
  }
  if (state !== 'inactive') return { initialized: false, skip: `this engine's swarm state is "${state}"` };
  try {
    await run(['swarm', 'init', '--advertise-addr', '127.0.0.1'], { timeoutMs: 60_000 });
    return { initialized: true };
  } catch (error) {
    return { initialized: false, skip: `docker swarm init failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function leaveSwarm(session: SwarmSession): Promise<void> {
  if (session.initialized) await run(['swarm', 'leave', '--force'], { timeoutMs: 60_000 });
}

/**
 * Removes the services, secrets, configs and networks labelled with this run id (services first: they hold the rest);
 * `label` selects by another label instead (e.g. `dev.cmesh.project=<project>` for what cmesh itself created).
 */
export async function cleanupSwarm(runId: string, label = `${RUN_LABEL}=${runId}`): Promise<void> {
  const filter = `label=${label}`;
  const errors: unknown[] = [];
  for (const kind of ['service', 'secret', 'config', 'network'] as const) {
    try {
      const ids = (await run([kind, 'ls', '-q', '--filter', filter], { timeoutMs: 30_000 })).split('\n').filter(Boolean);
      if (ids.length > 0) await run([kind, 'rm', ...ids], { timeoutMs: 60_000 });
      // Task containers go away asynchronously after `service rm`; networks need them gone.
      if (kind === 'service' && ids.length > 0) await waitNoTaskContainers(label);
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `swarm cleanup of test run ${runId} failed`);
}

async function waitNoTaskContainers(label: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const left = await run(['ps', '-aq', '--filter', `label=${label}`], { timeoutMs: 15_000 });
    if (left === '') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** IDs of the project's swarm objects of one kind, by cmesh's project label. */
export async function swarmObjectsOf(kind: 'service' | 'secret' | 'config' | 'network', project: string): Promise<string[]> {
  return (await run([kind, 'ls', '-q', '--filter', `label=dev.cmesh.project=${project}`], { timeoutMs: 30_000 })).split('\n').filter(Boolean);
}

/**
 * GETs `/` on the proxy's published port `n` times. `bodies`: each answer's body; `servedBy`: the task that answered
 * each (the echo fixture's X-Served-By, else the body, which is the task's hostname for hostnameWeb).
 */
export async function hits(port: number, n: number): Promise<{ bodies: string[]; servedBy: string[]; failed: number }> {
  const bodies: string[] = [];
  const servedBy: string[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
      const body = (await res.text()).trim();
      if (res.status !== 200) {
        failed++;
        continue;
      }
      bodies.push(body);
      servedBy.push(res.headers.get('x-served-by') ?? body);
    } catch {
      failed++;
    }
  }
  return { bodies, servedBy, failed };
}

/**
 * Paced GET load (4 workers, 50 req/s, bounded to 2 min) on the published port around `action`. Against echoWeb a
 * kill -9 at an arbitrary instant is retriable: the node fixture writes a response's head and body in one write(2),
 * so a killed task either answered completely or sent nothing the proxy forwarded (docs/swarm.md says why busybox
 * httpd, which writes them apart, cannot give that guarantee).
 */
export async function underLoad(port: number, action: () => Promise<void>): Promise<Outcome[]> {
  const pool = loopbackPool(port, 4);
  const stop = new AbortController();
  const load = pacedLoad(pool, { rate: 50, concurrency: 4, maxMs: 120_000, maxCount: 6000, stop: stop.signal });
  try {
    await sleep(500);
    await action();
    await sleep(1000);
  } finally {
    stop.abort();
  }
  const outcomes = await load;
  await pool.close();
  return outcomes;
}

/** The 12-character container IDs of the service's running task containers: what `hostname` prints inside them. */
export async function taskHostnames(service: string): Promise<string[]> {
  const out = await run(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`, '--filter', 'status=running']);
  return out.split('\n').filter(Boolean).sort();
}

/** `docker service ps` of a service, one task a line with its state and error: what a timed-out wait shows. */
export function taskStates(service: string): Promise<string> {
  return run(['service', 'ps', '--no-trunc', '--format', '{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}', service]).catch((e: Error) => e.message);
}

/**
 * Waits (polling every 250 ms) until `n` GETs on the published port are answered by exactly `hosts` (sorted, as
 * taskHostnames gives them), each at least once; with `noFailures`, also with none of the `n` failing.
 */
export async function untilServedBy(port: number, hosts: readonly string[], what: string, timeoutMs: number, opts: { n?: number; noFailures?: boolean } = {}): Promise<void> {
  const { n = 15, noFailures = false } = opts;
  await until(what, timeoutMs, async () => {
    const { servedBy, failed } = await hits(port, n);
    return (!noFailures || failed === 0) && JSON.stringify([...new Set(servedBy)].sort()) === JSON.stringify(hosts) ? true : undefined;
  }, 250);
}

/** The image reference a swarm service's task template runs (an image ID, or a registry reference by digest). */
export function serviceImage(service: string): Promise<string> {
  return run(['service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', service]);
}

/**
 * The frame of a swarm e2e file: holds the engine exclusively (engine-lock.ts; skipped when another run keeps it past
 * the wait), needs Docker, joins the engine to a swarm when it is in none, and after the file removes what carries
 * each of `runIds` (filled as the file goes) and leaves the swarm again only if it made it.
 */
export async function swarmTestFile(runIds: readonly string[]): Promise<SwarmSession> {
  // Before any engine call: the swarm init and leave below break DNS for other runs' containers (engine-lock.ts).
  try {
    await holdEngine('exclusive');
  } catch (error) {
    // Beside someone else's long run a file may skip; CI runs docker files one at a time, where a lock that is never
    // granted is a defect to see, not a swarm suite that silently did not run.
    if (process.env['CI'] === 'true') throw error;
    return { initialized: false, skip: error instanceof Error ? error.message : String(error) };
  }
  await requireDocker();
  const session = await ensureSwarm();
  after(async () => {
    try {
      for (const id of runIds) await cleanupSwarm(id);
    } finally {
      await leaveSwarm(session);
    }
  });
  return session;
}

/** A describe's `after`: the project downed and its daemon gone, then whatever cmesh made for it on the swarm. */
export async function teardownSwarmProject(cli: CmeshCli | undefined, project: string, runId: string): Promise<void> {
  try {
    await cli?.teardown(project, runId);
  } finally {
    await cleanupSwarm(runId, `dev.cmesh.project=${project}`);
  }
}

/** The run's labels as a compose mapping, for services, networks and volumes the test declares. */
export const composeTestLabels = (runId: string): string => `{ ${TEST_LABEL}: "true", ${RUN_LABEL}: ${runId} }`;

/**
 * A compose `web` service of `replicas` busybox httpd tasks on `port`, healthchecked every second; each task answers
 * with its hostname (its container's short ID) and logs `task <hostname> up`, so a response names its task. The probe's
 * 5 s timeout only bounds a hung probe (a healthy httpd answers in milliseconds, a dead one refuses at once): with 1 s,
 * a loaded host's slow `docker exec` of wget failed three probes in a row and Swarm rolled an update back.
 */
export function hostnameWeb(port: number, replicas: number, runId: string, extra = ''): string {
  return `  web:
    image: cmesh/busybox:local
    command: ["sh", "-c", "echo task $$(hostname) up && mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["${port}:8080"]
    deploy: { replicas: ${replicas} }
    healthcheck: { test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"], interval: 1s, timeout: 5s, retries: 3 }
    labels: ${composeTestLabels(runId)}
${extra}`;
}

/** The echo fixture's image (test/helpers/docker.ts buildFixtureImage); cmesh deploys it to Swarm by its ID. */
export const ECHO_IMAGE = 'cmesh-fixture/echo:test';

/**
 * A compose `web` service of `replicas` echo fixture tasks on `port` (container port 3000), healthchecked every second
 * with the image's busybox wget; its timeout, retries and start period are loose because at load 25+ node answers
 * slowly, and Swarm replaces an unhealthy task (during an update: rolls the whole update back). Each answer names its
 * task in X-Served-By (the task's hostname, its container's short ID), and each task logs `echo[<hostname>]
 * listening`. SIGTERM drains within 2 s (stop_grace_period 3s). Call buildFixtureImage('echo') first.
 */
export function echoWeb(port: number, replicas: number, runId: string, extra = ''): string {
  return `  web:
    image: ${ECHO_IMAGE}
    ports: ["${port}:3000"]
    deploy: { replicas: ${replicas} }
    environment: { SHUTDOWN_GRACE_MS: "2000" }
    stop_grace_period: 3s
    healthcheck: { test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:3000/healthz"], interval: 1s, timeout: 3s, retries: 5, start_period: 20s }
    labels: ${composeTestLabels(runId)}
${extra}`;
}

/**
 * A fresh CLI whose project runs `hostnameWeb` with 2 tasks (stop_grace_period 1s, the default network labelled) on
 * the swarm target, up and ready: the start of the swarm e2e files that exercise verbs on a running project.
 */
export async function upTwoTaskWeb(project: string, runId: string): Promise<{ cli: CmeshCli; port: number }> {
  await ensureBaseImages();
  const cli = await newCmeshCli();
  const port = await freePort();
  await cli.writeCompose(
    project,
    `${hostnameWeb(port, 2, runId, '    stop_grace_period: 1s\n')}networks:
  default: { labels: ${composeTestLabels(runId)} }
x-cmesh: { target: swarm }
`,
  );
  await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  return { cli, port };
}
