// `up --wait` readiness: every selected replica running (and healthy when it has a healthcheck), or a typed failure.

import type { DesiredProject } from '../api/desired.ts';
import { desiredReplicas } from '../api/desired.ts';
import type { ContainerEngine, ContainerInfo } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { isPendingNext, Labels, projectLabels, replicaId, replicaOf } from '../api/labels.ts';
import { touchedServices } from './plan-graph.ts';
import { type RestartDecision, replicaKey } from './supervisor.ts';
import { Nap, type WakeSource } from './nap.ts';
import { lastLogLines } from './wait.ts';

export interface ReadyOptions {
  services: string[];
  timeoutMs: number;
  signal?: AbortSignal;
  pollMs?: number;
  /** Engine events for the project: each ends the current nap early. */
  wake?: WakeSource;
  /**
   * A replica without a healthcheck counts as ready once running, but a process that exits at start is "running" for
   * a few ms; all must stay ready this long before the wait succeeds (default 1000 ms; healthchecked ones need not).
   */
  settleMs?: number;
  /** A list just taken through the same engine (a no-op `up`'s): the first look judges it instead of listing again. */
  seen?: ContainerInfo[];
  /**
   * When the daemon saw a container's current run start (daemon/container-starts.ts): the list does not say, and a
   * replica known to have run `settleMs` already needs no settling wait (a no-op `up --wait` answers at once). A start
   * it did not see falls back on the list's `upForMs`.
   */
  runningSince?: (id: string) => number | undefined;
}

/** The running replicas without a health proof: the latest start among them, or that one's start is not known. */
type Unproven = { since: number } | { since: undefined };

const lessProven = (u: Unproven | undefined, since: number | undefined): Unproven =>
  u === undefined ? { since } : u.since === undefined || since === undefined ? { since: undefined } : { since: Math.max(u.since, since) };

interface Problem {
  service: string;
  replica: number;
  container?: ContainerInfo;
  why: string;
  unhealthy: boolean;
}

/** Would the supervisor ever run this exited replica again? Asked so a dead-for-good replica fails fast. */
export type WillRestart = (key: string, service: string, container: ContainerInfo) => RestartDecision;

function problemsOf(
  desired: DesiredProject,
  services: Set<string>,
  containers: ContainerInfo[],
  willRestart: WillRestart,
  runningSince: (c: ContainerInfo) => number | undefined,
): { pending: Problem[]; fatal?: Problem; unproven: Unproven | undefined } {
  const pending: Problem[] = [];
  let unproven: Unproven | undefined;
  for (const name of [...services].sort()) {
    const spec = desired.project.services[name]!;
    const wantsHealth = spec.healthcheck !== undefined && !spec.healthcheck.disable;
    // With a test of its own the engine always reports a health state, so `none` is only the instant after a
    // (re)start and proves nothing; with timings only, the image may have no HEALTHCHECK and `none` is final.
    const ownTest = (spec.healthcheck?.test.length ?? 0) > 0;
    for (let replica = 1; replica <= desiredReplicas(desired, name); replica++) {
      const candidates = containers
        .filter((c) => c.labels[Labels.service] === name && replicaOf(c.labels) === replica && !isPendingNext(c))
        .sort((a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.createdAt - a.createdAt);
      const c = candidates[0];
      const at = { service: name, replica, unhealthy: false };
      if (!c) {
        pending.push({ ...at, why: 'no container yet' });
        continue;
      }
      if (c.state === 'paused') continue;
      if (c.state === 'running') {
        if (!wantsHealth || c.health === 'healthy' || (c.health === 'none' && !ownTest)) {
          if (c.health !== 'healthy') unproven = lessProven(unproven, runningSince(c));
          continue;
        }
        pending.push({ ...at, container: c, why: c.health, unhealthy: c.health === 'unhealthy' });
        continue;
      }
      if (c.state === 'exited' || c.state === 'dead') {
        const decision = willRestart(replicaKey(name, replica), name, c);
        // A one-shot job that finished cleanly is as ready as it will ever be (compose treats it the same). Not so a
        // service with a healthcheck: it is meant to stay up, and exit 0 is also what the supervisor's stop of an
        // unhealthy replica looks like between its stop and its start.
        if (decision.kind !== 'restart' && c.exitCode === 0) {
          if (!wantsHealth) continue;
          pending.push({ ...at, container: c, why: 'exited with code 0 (a service with a healthcheck must stay up)' });
          continue;
        }
        const problem = { ...at, container: c, why: `exited with code ${c.exitCode ?? '?'}` };
        if (decision.kind !== 'restart') return { pending, fatal: problem, unproven };
        pending.push(problem);
        continue;
      }
      pending.push({ ...at, container: c, why: c.state });
    }
  }
  return { pending, unproven };
}

async function withLogs(engine: ContainerEngine, problems: Problem[]): Promise<Record<string, string[]>> {
  const logs: Record<string, string[]> = {};
  for (const p of problems.slice(0, 8)) {
    if (p.container) logs[p.container.name] = await lastLogLines(engine, p.container.id, 20);
  }
  return logs;
}

const describe = (ps: Problem[]): string => ps.map((p) => `${replicaId(p.service, p.replica)} (${p.why})`).join(', ');

/** The services an `up --wait` of `selected` waits for: those and their dependencies, less the stopped ones. */
export function readyServices(desired: DesiredProject, selected: readonly string[]): Set<string> {
  const named = selected.length > 0 ? selected : desired.selected;
  return new Set([...touchedServices(desired.project.services, named)].filter((s) => !desired.stopped.includes(s)));
}

/**
 * Polls the engine until all selected replicas are ready; the error names each failing service and its last logs.
 * Resolves with the project's containers as the look that proved them ready listed them.
 */
export async function waitReady(
  engine: ContainerEngine,
  desired: DesiredProject,
  willRestart: WillRestart,
  options: ReadyOptions,
): Promise<ContainerInfo[]> {
  const services = readyServices(desired, options.services);
  const labels = projectLabels(desired.project.name);
  const deadline = Date.now() + options.timeoutMs;
  const settleMs = options.settleMs ?? 1000;
  let readySince: number | undefined;
  const nap = new Nap(options.wake);
  let seen = options.seen;
  // Not the listing's startedAt: Docker's list has none, and the fake's is on the fake's clock, not the daemon's. A
  // start this daemon did not see (it adopted the container after its own restart) is proven by the list's status
  // once that says the run has lasted the settle period (`Up 3 seconds`): no wait, and no inspect per container. A
  // shorter status proves nothing more than this wait's own look (it rounds down, and a stuck fake clock says 0).
  const since = (c: ContainerInfo): number | undefined => {
    const seen = options.runningSince?.(c.id);
    if (seen !== undefined) return seen;
    return c.upForMs !== undefined && c.upForMs >= settleMs ? Date.now() - c.upForMs : undefined;
  };
  try {
    for (;;) {
      nap.look();
      const containers = seen ?? (await engine.listContainers({ labels, all: true }));
      seen = undefined;
      const { pending, fatal, unproven } = problemsOf(desired, services, containers, willRestart, since);
      if (fatal) {
        throw new CmeshError('CMESH_E_CONTAINER_EXITED', `${replicaId(fatal.service, fatal.replica)} ${fatal.why} and will not be restarted`, {
          hint: `its last log lines are below; more with: cmesh logs ${fatal.service}`,
          details: { services: [fatal.service], logs: await withLogs(engine, [fatal]) },
        });
      }
      // Since when every unproven replica has run: their known starts, else since this wait first saw them all ready.
      let settledFrom: number | undefined;
      if (pending.length === 0) {
        readySince ??= Date.now();
        settledFrom = unproven?.since ?? readySince;
        if (!unproven || Date.now() - settledFrom >= settleMs) return containers;
      } else {
        readySince = undefined;
      }
      if (Date.now() >= deadline && pending.length > 0) {
        const unhealthy = pending.filter((p) => p.unhealthy);
        const code = unhealthy.length > 0 ? 'CMESH_E_UNHEALTHY' : 'CMESH_E_TIMEOUT';
        throw new CmeshError(code, `not ready after ${options.timeoutMs} ms: ${describe(pending)}`, {
          hint: unhealthy.length > 0 ? 'the healthcheck fails; the last log lines are below' : 'raise --timeout or check `cmesh ps`',
          details: { services: [...new Set(pending.map((p) => p.service))], logs: await withLogs(engine, pending) },
        });
      }
      // Nap until the next change, the poll, or the end of the settling wait, whichever comes first.
      const napMs = settledFrom === undefined ? (options.pollMs ?? 250) : Math.max(25, settledFrom + settleMs - Date.now());
      await nap.sleep(Math.min(napMs, Math.max(25, deadline - Date.now())), options.signal);
    }
  } finally {
    nap.dispose();
  }
}
