// Which gateway a container is, from its engine name: `<project>-cmesh-gateway[-N]`, and `…-next` while a start-first
// replacement runs it beside the old one (execute-gateway-rollout.ts renames it once the old one is gone); and how
// one is removed.

import { GATEWAY_SERVICE, gatewayName } from '../api/east-west.ts';
import type { ContainerInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { Action, ContainerRef } from './plan-types.ts';

const PENDING_SUFFIX = '-next';

/** The gateway's index from its engine name (`-cmesh-gateway` is 0, `-cmesh-gateway-3` is 2); undefined for others. */
export function gatewayIndexOf(project: string, name: string): number | undefined {
  const base = gatewayName(project);
  if (name === base) return 0;
  const m = name.startsWith(`${base}-`) ? /^([2-9]|[1-9]\d+)$/.exec(name.slice(base.length + 1)) : null;
  return m ? Number(m[1]) - 1 : undefined;
}

/** The temporary name of a gateway's start-first replacement. */
export const pendingGatewayName = (canonical: string): string => `${canonical}${PENDING_SUFFIX}`;

/** The index a pending replacement stands in for (`<gateway>-next`); undefined for every other name. */
export function pendingIndexOf(project: string, name: string): number | undefined {
  return name.endsWith(PENDING_SUFFIX) ? gatewayIndexOf(project, name.slice(0, -PENDING_SUFFIX.length)) : undefined;
}

/** The gateway as a ContainerRef: its index is the "replica" (events and plans show `cmesh:gateway#0`, `#1`…). */
export const gatewayRef = (c: ContainerInfo): ContainerRef => {
  const project = c.labels[Labels.project] ?? '';
  return { id: c.id, name: c.name, service: GATEWAY_SERVICE, replica: gatewayIndexOf(project, c.name) ?? pendingIndexOf(project, c.name) ?? 0 };
};

/** Seconds the gateway gets to stop; it holds no state, and its callers retry on connect errors. */
export const GATEWAY_STOP_SEC = 2;

export const isUp = (c: ContainerInfo): boolean => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

export const removal = (c: ContainerInfo, reason: string): Action =>
  isUp(c) ? { kind: 'remove', target: gatewayRef(c), stopTimeoutSec: GATEWAY_STOP_SEC, reason } : { kind: 'remove', target: gatewayRef(c), reason };
