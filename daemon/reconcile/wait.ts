// Waiting for containers: depends_on gates between stages and `up --wait` readiness: re-list the engine whenever it
// announces a change for the project, with a slow poll as the safety net.

import type { ContainerEngine, ContainerInfo } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { isPendingNext, Labels, projectLabels, replicaOf } from '../api/labels.ts';
import { Nap, type WakeSource } from './nap.ts';
import type { WaitGate } from './plan-types.ts';

export type Verdict = { kind: 'ok' } | { kind: 'pending'; why: string } | { kind: 'failed'; error: CmeshError };

const isStarted = (c: ContainerInfo): boolean => c.state === 'running' || c.state === 'paused';

/** Compose semantics of one depends_on condition over the dependency's current containers. */
export function gateVerdict(gate: WaitGate, containers: readonly ContainerInfo[]): Verdict {
  const mine = containers.filter((c) => !isPendingNext(c) && replicaOf(c.labels) !== undefined && replicaOf(c.labels)! <= gate.replicas);
  const label = `${gate.service} (${gate.condition}, needed by ${gate.for.join(', ')})`;
  if (mine.length < gate.replicas) return { kind: 'pending', why: `${label}: ${mine.length}/${gate.replicas} replicas exist` };
  switch (gate.condition) {
    case 'service_started': {
      const up = mine.filter(isStarted).length;
      return up >= gate.replicas ? { kind: 'ok' } : { kind: 'pending', why: `${label}: ${up}/${gate.replicas} running` };
    }
    case 'service_healthy': {
      const sick = mine.find((c) => c.health === 'unhealthy');
      if (sick) {
        return { kind: 'failed', error: new CmeshError('CMESH_E_UNHEALTHY', `dependency ${gate.service} is unhealthy (${sick.name})`, { details: { service: gate.service, container: sick.id } }) };
      }
      // A dependency without a healthcheck cannot become healthy; Compose treats running as good enough then.
      const ok = mine.filter((c) => isStarted(c) && (c.health === 'healthy' || c.health === 'none')).length;
      return ok >= gate.replicas ? { kind: 'ok' } : { kind: 'pending', why: `${label}: ${ok}/${gate.replicas} healthy` };
    }
    case 'service_completed_successfully': {
      const bad = mine.find((c) => (c.state === 'exited' || c.state === 'dead') && c.exitCode !== 0);
      if (bad) {
        return {
          kind: 'failed',
          error: new CmeshError('CMESH_E_CONTAINER_EXITED', `dependency ${gate.service} did not complete successfully: ${bad.name} exited with code ${bad.exitCode ?? '?'}`, {
            details: { service: gate.service, container: bad.id, exitCode: bad.exitCode },
          }),
        };
      }
      const done = mine.filter((c) => c.state === 'exited' && c.exitCode === 0).length;
      return done >= gate.replicas ? { kind: 'ok' } : { kind: 'pending', why: `${label}: ${done}/${gate.replicas} completed` };
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface PollOptions {
  timeoutMs: number;
  /** Longest nap between looks (default 250 ms); an engine event for the project ends a nap early. */
  pollMs?: number;
  signal?: AbortSignal;
  wake?: WakeSource;
}

/** Polls `check` until it says ok or failed; at the deadline throws CMESH_E_TIMEOUT with the last reason. */
export async function pollUntil(check: () => Promise<Verdict>, what: string, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const nap = new Nap(options.wake);
  try {
    for (;;) {
      nap.look();
      const verdict = await check();
      if (verdict.kind === 'ok') return;
      if (verdict.kind === 'failed') throw verdict.error;
      if (Date.now() >= deadline) {
        throw new CmeshError('CMESH_E_TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${what}: ${verdict.why}`);
      }
      await nap.sleep(Math.min(options.pollMs ?? 250, Math.max(1, deadline - Date.now())), options.signal);
    }
  } finally {
    nap.dispose();
  }
}

/** Default gate waiter of execute(): re-lists the dependency's containers until the condition holds. */
export function waitForGate(engine: ContainerEngine, project: string, gate: WaitGate, options: PollOptions): Promise<void> {
  const labels = { ...projectLabels(project), [Labels.service]: gate.service };
  return pollUntil(async () => gateVerdict(gate, await engine.listContainers({ labels, all: true })), gate.service, options);
}

/** The last lines a container printed, for error details; never throws (a failing log read must not hide the cause). */
export async function lastLogLines(engine: ContainerEngine, id: string, tail = 20): Promise<string[]> {
  const lines: string[] = [];
  try {
    for await (const line of engine.containerLogs(id, { follow: false, tail })) lines.push(line.text);
  } catch {
    // The container may be gone already; no logs is an acceptable answer.
  }
  return lines.slice(-tail);
}
