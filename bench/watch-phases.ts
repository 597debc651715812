// The watch benchmark's measures (bench/watch.ts): one save split into phases from the daemon's events, and the
// medians it reports.

import type { DaemonEvent } from '../daemon/api/events.ts';

export const ms = (x: number): string => `${Number.isFinite(x) ? x.toFixed(0) : '-'} ms`;

export interface Phases {
  saveToBuild: number;
  build: number;
  create: number;
  start: number;
  healthy: number;
  /** Routable (the rollout's `progress`) → the first response of the new version the poll saw. */
  firstPick: number;
  firstResponse: number;
  rolloutDone: number;
  /** Polls the old replicas answered after the new one was routable: the balancer's draw, one poll each 10 ms + RTT. */
  oldAnswersAfterRoutable: number;
  /** Passive ejections or failed mesh checks between the save and the first new response (should be none). */
  trouble: string[];
}

/** Splits one save into phases from the daemon's events (same host clock as the bench's Date.now()). */
export function phasesSince(
  events: readonly DaemonEvent[],
  project: string,
  t0: number,
  firstResponseAt: number,
  polls: { at: number; version: string | undefined }[],
  version: string,
): Phases {
  const after = events.filter((e) => e.time >= t0 && e.project === project);
  const at = (pred: (e: DaemonEvent) => boolean): number => after.find(pred)?.time ?? Number.NaN;
  const buildStart = at((e) => e.type === 'build' && e.phase === 'start');
  const buildDone = at((e) => e.type === 'build' && e.phase === 'done');
  const created = at((e) => e.type === 'container' && e.action === 'created');
  const started = at((e) => e.type === 'container' && e.action === 'started');
  const healthy = at((e) => e.type === 'rollout' && e.phase === 'progress');
  const done = at((e) => e.type === 'rollout' && e.phase === 'done');
  return {
    saveToBuild: buildStart - t0,
    build: buildDone - buildStart,
    create: created - buildDone,
    start: started - created,
    healthy: healthy - started,
    firstPick: firstResponseAt - healthy,
    firstResponse: firstResponseAt - t0,
    rolloutDone: done - t0,
    oldAnswersAfterRoutable: polls.filter((p) => p.at > healthy && p.version !== undefined && p.version !== version).length,
    trouble: after
      .filter((e) => e.time <= firstResponseAt && ((e.type === 'ejection' && e.ejected) || (e.type === 'health' && !e.healthy)))
      .map((e) => (e.type === 'ejection' || e.type === 'health' ? `${e.type} ${e.service}-${e.replica} +${e.time - t0} ms: ${e.reason ?? ''}` : '')),
  };
}
