// Swarm engine events in the daemon's own words (pure): a task container's lifecycle on this node becomes the same
// `container` events the local target's reconciler emits, its healthcheck verdicts `health` events (source engine),
// and the state of Swarm's rolling updates `rollout` events, so `cmesh events`, the TUI and metrics read a swarm
// project like a local one.

import type { DaemonEvent } from '../api/events.ts';
import { Labels } from '../api/labels.ts';
import type { SwarmEvent } from '../api/swarm-engine.ts';

type ContainerAction = Extract<DaemonEvent, { type: 'container' }>['action'];
type RolloutPhase = Extract<DaemonEvent, { type: 'rollout' }>['phase'];

const CONTAINER_ACTIONS: Readonly<Record<string, ContainerAction>> = {
  create: 'created',
  start: 'started',
  die: 'died',
  stop: 'stopped',
  destroy: 'removed',
};

/** The engine's UpdateStatus.State (in `updatestate.new` of a service update event) as a rollout phase. */
const UPDATE_STATES: Readonly<Record<string, { phase: RolloutPhase; text: string }>> = {
  updating: { phase: 'start', text: 'Swarm rolling update started' },
  completed: { phase: 'done', text: 'Swarm replaced every task' },
  paused: { phase: 'progress', text: 'Swarm paused the update (a new task failed)' },
  rollback_started: { phase: 'progress', text: 'a new task failed: Swarm rolls back to the previous spec' },
  rollback_paused: { phase: 'progress', text: 'Swarm paused the rollback' },
  rollback_completed: { phase: 'rolled-back', text: 'Swarm rolled back to the previous spec' },
};

/** Swarm names a task (and its container) `<service>.<slot>.<task id>`; the slot is the replica number. */
export const TASK_NAME_LABEL = 'com.docker.swarm.task.name';

function slotOf(taskName: string): number | undefined {
  const slot = Number(taskName.split('.').at(-2));
  return Number.isInteger(slot) && slot > 0 ? slot : undefined;
}

/** A task container's engine event → a `container` or `health` event of its project, or undefined (not a cmesh task). */
export function taskDaemonEvent(e: SwarmEvent): DaemonEvent | undefined {
  const a = e.attributes;
  const project = a[Labels.project];
  const service = a[Labels.service];
  const name = a[TASK_NAME_LABEL] ?? '';
  const replica = slotOf(name);
  if (e.kind !== 'task' || !project || !service || replica === undefined) return undefined;
  if (e.action.startsWith('health_status:')) {
    const status = e.action.slice('health_status:'.length).trim();
    if (status !== 'healthy' && status !== 'unhealthy') return undefined;
    return { type: 'health', time: e.time, project, service, replica, source: 'engine', healthy: status === 'healthy', reason: `healthcheck ${status}` };
  }
  const action = CONTAINER_ACTIONS[e.action];
  if (!action) return undefined;
  const exitCode = action === 'died' && a['exitCode'] !== undefined ? Number(a['exitCode']) : undefined;
  return {
    type: 'container',
    action,
    time: e.time,
    project,
    service,
    replica,
    container: e.id,
    name,
    ...(exitCode === undefined || Number.isNaN(exitCode) ? {} : { exitCode }),
  };
}

/** True when a service event is worth resolving its owner for: an update that moved Swarm's update state. */
export function isRolloutEvent(e: SwarmEvent): boolean {
  return e.kind === 'service' && e.action === 'update' && UPDATE_STATES[e.attributes['updatestate.new'] ?? ''] !== undefined;
}

/** A service update event of a cmesh service (`owner` from its labels) → a `rollout` event, or undefined. */
export function serviceDaemonEvent(e: SwarmEvent, owner: { project: string; service: string } | undefined): DaemonEvent | undefined {
  const state = UPDATE_STATES[e.attributes['updatestate.new'] ?? ''];
  if (!owner || !state || !isRolloutEvent(e)) return undefined;
  return { type: 'rollout', time: e.time, project: owner.project, service: owner.service, phase: state.phase, text: state.text };
}
