// How a gateway that must change is replaced: start-first while it runs (a new container under `<name>-next` beside
// it carries the same names, gated on its `serving` report, then the old one drains and goes, and the new one takes the
// name: execute-gateway-rollout.ts), and what a daemon that died mid-way left behind is finished or undone.

import { GATEWAY_SERVICE } from '../api/east-west.ts';
import type { ContainerCreateSpec, ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import { GATEWAY_STOP_SEC, gatewayRef, pendingGatewayName, removal } from './plan-gateway-refs.ts';
import type { Action } from './plan-types.ts';

/** The new gateway must report serving within this (node, supervisor, worker, first table, probes seeded). */
export const GATEWAY_SERVE_TIMEOUT_MS = 30_000;
/** The old gateway's drain bound: in-flight requests and TCP streams (the supervisor's worker drain is as long). */
export const GATEWAY_DRAIN_MS = 10_000;

/** The key a failed replacement is remembered under (PlanContext.failedRollouts): one per gateway index. */
export const failedReplacementKey = (index: number): string => `${GATEWAY_SERVICE}#${index}`;

export interface GatewaySlot {
  index: number;
  /** The gateway under the canonical name. */
  keep: ContainerInfo;
  /** Pending replacements (`<name>-next`) of this index, newest running first. */
  pending: ContainerInfo[];
  want: { spec: ContainerCreateSpec; hash: string };
  /** Why it cannot stay (plan-gateway.ts changeOf), undefined when it can. */
  change: string | undefined;
  /** The spec hash whose replacement already failed for this desired generation. */
  failedHash: string | undefined;
}

/**
 * The actions for a kept gateway and its pending replacements. No change: an interrupted replacement is undone (the
 * old gateway never stopped serving). A change on a running gateway: start-first, adopting a pending replacement that
 * already runs the wanted spec. Stop-first only where nothing serves (exited, created, dead): nothing to keep up.
 */
export function replacement(slot: GatewaySlot, notes: string[]): Action[] {
  const { keep, pending, want, change } = slot;
  if (change === undefined) return pending.map((c) => removal(c, 'an interrupted replacement: the gateway it was to replace serves on'));
  const base = { target: gatewayRef(keep), stopTimeoutSec: GATEWAY_STOP_SEC, specHash: want.hash, spec: want.spec };
  if (keep.state !== 'running') {
    const reason = `${change} (stop-first: it is ${keep.state}, nothing serves its names)`;
    return [...pending.map((c) => removal(c, 'a replacement of a gateway that is not running')), { kind: 'recreate', strategy: 'stop-first', ...base, reason }];
  }
  if (slot.failedHash === want.hash) {
    notes.push(`${keep.name}: its replacement did not serve within ${GATEWAY_SERVE_TIMEOUT_MS / 1000} s; the old gateway serves on until the project changes (${change})`);
    return pending.map((c) => removal(c, 'a replacement that did not serve'));
  }
  const [first, ...rest] = pending;
  const adopt = first && first.state === 'running' && first.labels[Labels.specHash] === want.hash ? first : undefined;
  const stale = first && !adopt ? first : undefined;
  const recreate: Action = {
    kind: 'recreate',
    strategy: 'start-first',
    ...base,
    reason: change,
    replacement: {
      next: pendingGatewayName(want.spec.name),
      timeoutMs: GATEWAY_SERVE_TIMEOUT_MS,
      drainMs: GATEWAY_DRAIN_MS,
      ...(adopt ? { adopt: gatewayRef(adopt) } : {}),
      ...(stale ? { stale: gatewayRef(stale) } : {}),
    },
  };
  return [...rest.map((c) => removal(c, 'duplicate pending gateway')), recreate];
}

/**
 * A pending replacement whose old gateway is gone (the daemon died between the removal and the rename): it takes the
 * canonical name, and is started by the next pass when it is not running. undefined: none, create one.
 */
export function promotion(pending: ContainerInfo[], canonical: string): Action[] | undefined {
  const [first, ...rest] = pending;
  if (!first) return undefined;
  return [
    ...rest.map((c) => removal(c, 'duplicate pending gateway')),
    { kind: 'promote', target: gatewayRef(first), name: canonical, reason: 'an interrupted replacement: the old gateway is gone' },
  ];
}
