// Tasks on other nodes, seen through the task list. Each engine streams only its own containers' events, so for the
// tasks that run elsewhere the daemon derives the same `container` events from what changed between two listings of
// the project's tasks (the observer re-lists every second). Pure: listings in, events out.

import type { DaemonEvent } from '../api/events.ts';
import type { SwarmTaskInfo, SwarmTaskState } from '../api/swarm-engine.ts';

type ContainerEvent = Extract<DaemonEvent, { type: 'container' }>;
type Phase = 'pending' | 'running' | 'ended';

/** A listed task with what an event names: its compose service and its Swarm service's name. */
export interface ListedTask {
  task: SwarmTaskInfo;
  service: string;
  serviceName: string;
}

const PENDING: ReadonlySet<SwarmTaskState> = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
const phaseOf = (s: SwarmTaskState): Phase => (s === 'running' ? 'running' : PENDING.has(s) ? 'pending' : 'ended');

/** How a task that stopped running is announced: as the engine would for its container, where the state says enough. */
function ending(t: SwarmTaskInfo): Pick<ContainerEvent, 'action' | 'exitCode'> {
  if (t.state === 'shutdown') return { action: 'stopped' };
  if (t.state === 'remove') return { action: 'removed' };
  if (t.state === 'complete') return { action: 'died', exitCode: 0 };
  // Swarm's failure message carries the exit code: `task: non-zero exit (137)`.
  const code = /exit \((\d+)\)/.exec(t.message)?.[1];
  return code === undefined ? { action: 'died' } : { action: 'died', exitCode: Number(code) };
}

export class RemoteTaskEvents {
  /** Project → task ID → the phase it had in the last listing (tasks of every node, so a move is no news). */
  readonly #known = new Map<string, Map<string, { phase: Phase; last: ListedTask }>>();

  /** True once the project has a baseline listing: until then nothing is announced (a restarted daemon adopts). */
  has(project: string): boolean {
    return this.#known.has(project);
  }

  /**
   * The events for the tasks not on `self` that changed since the project's last listing; the first listing of a
   * project is its baseline and announces nothing. A task gone from the list was removed (its service, or history).
   */
  next(project: string, listed: readonly ListedTask[], self: string, time: number): DaemonEvent[] {
    const before = this.#known.get(project);
    const now = new Map<string, { phase: Phase; last: ListedTask }>();
    const out: DaemonEvent[] = [];
    for (const l of listed) {
      const phase = phaseOf(l.task.state);
      now.set(l.task.id, { phase, last: l });
      if (!before || l.task.nodeId === self) continue;
      const was = before.get(l.task.id)?.phase;
      if (was === phase || was === 'ended') continue;
      const emit = (e: Pick<ContainerEvent, 'action' | 'exitCode'>) => out.push(event(project, l, e, time));
      if (was === undefined) emit({ action: 'created' });
      if (phase !== 'pending' && was !== 'running' && (phase === 'running' || l.task.containerId)) emit({ action: 'started' });
      if (phase === 'ended') emit(ending(l.task));
    }
    if (before) for (const [id, k] of before) if (!now.has(id) && k.last.task.nodeId !== self) out.push(event(project, k.last, { action: 'removed' }, time));
    this.#known.set(project, now);
    return out;
  }

  forget(project: string): void {
    this.#known.delete(project);
  }
}

function event(project: string, l: ListedTask, what: Pick<ContainerEvent, 'action' | 'exitCode'>, time: number): ContainerEvent {
  const { task } = l;
  return {
    type: 'container',
    time,
    project,
    service: l.service,
    replica: task.slot,
    container: task.containerId ?? task.id,
    name: `${l.serviceName}.${task.slot}.${task.id}`,
    action: what.action,
    ...(what.exitCode === undefined ? {} : { exitCode: what.exitCode }),
  };
}
