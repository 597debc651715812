// One reconcile loop per project, and the engine event subscription that wakes the right loop (reconnecting with
// backoff when the stream drops). Loops are created on first use and live until `down` or daemon shutdown.

import type { ReplicaStatus } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerEngine, ContainerInfo, EngineEvent, NetworkInfo, VolumeInfo } from './api/engine.ts';
import type { DaemonEvent } from './api/events.ts';
import { Labels } from './api/labels.ts';
import { ContainerStarts } from './container-starts.ts';
import { SETTLE_WAKES_MS, SETTLING_ACTIONS, watchEngine } from './engine-watch.ts';
import { loopMeshHooks, type ProjectMesh } from './project-mesh.ts';
import { ProjectReconciler } from './reconcile/loop.ts';
import { SHARED_GATEWAY_LABEL } from './gateway-shared.ts';

/** The shared gateway's container events that wake every project's loop (it stopped or went). */
const SHARED_GATEWAY_ENDS = new Set(['die', 'destroy']);

/** What the manager needs from a reconcile loop (daemon/reconcile/loop.ts). */
export interface Reconciler {
  wake(reason: string): void;
  reconcileNow(): Promise<unknown>;
  /** Resolves with the project's containers as the look that proved them ready listed them. */
  waitReady(options: { services: string[]; timeoutMs: number; signal?: AbortSignal; seen?: ContainerInfo[] }): Promise<ContainerInfo[]>;
  /** One list of the project's containers as waitReady sees them (a no-op `up` hands it back as `seen`). */
  look(): Promise<ContainerInfo[]>;
  status(): ReplicaStatus[];
  /** A pass's result when one would do nothing, judged from this container list (no-op `up`); else undefined. */
  noopResult(containers: ContainerInfo[], resources: { networks: NetworkInfo[]; volumes: VolumeInfo[] }): unknown;
  down(options: { volumes: boolean; removeOrphans: boolean }): Promise<unknown>;
}

export interface ProjectLoopsOptions {
  engine: ContainerEngine;
  emit: (event: DaemonEvent) => void;
  /** The project's desired state as the manager holds it now; a loop converges toward whatever this returns. */
  desired: (name: string) => DesiredProject | undefined;
  resyncMs?: number;
  /** Backoff of the engine event stream reconnect (tests shorten it). */
  reconnect?: { initialMs: number; maxMs: number };
  mesh?: ProjectMesh;
}

interface Entry {
  reconciler: Reconciler;
  abort: AbortController;
}

export class ProjectLoops {
  readonly #o: ProjectLoopsOptions;
  readonly #loops = new Map<string, Entry>();
  readonly #engineListeners = new Set<(event: EngineEvent) => void>();
  readonly #abort = new AbortController();
  /** When containers started, as this subscription saw them start: `up --wait` reads it (daemon/reconcile/ready.ts). */
  readonly #starts = new ContainerStarts();
  #watching: Promise<void> | undefined;

  constructor(options: ProjectLoopsOptions) {
    this.#o = options;
  }

  /** The project's loop, created (idle until woken) on first use. */
  ensure(name: string): Reconciler {
    let entry = this.#loops.get(name);
    if (entry) return entry.reconciler;
    const abort = new AbortController();
    const reconciler: Reconciler = new ProjectReconciler({
      engine: this.#o.engine,
      name,
      getDesired: () => this.#o.desired(name),
      emit: this.#o.emit,
      signal: abort.signal,
      ...(this.#o.resyncMs === undefined ? {} : { resyncMs: this.#o.resyncMs }),
      wake: (listener) => this.onEngineEvent((event) => {
        if (event.labels[Labels.project] === name) listener();
      }),
      runningSince: (id) => this.#starts.runningSince(id),
      ...loopMeshHooks(this.#o.mesh, name, () => this.#o.desired(name)),
    });
    entry = { reconciler, abort };
    this.#loops.set(name, entry);
    return reconciler;
  }

  /** The project's loop if it has one; never creates it. */
  find(name: string): Reconciler | undefined {
    return this.#loops.get(name)?.reconciler;
  }

  /** Stops and forgets the project's loop (after `down`); the next ensure() starts a fresh one. */
  remove(name: string): void {
    this.#loops.get(name)?.abort.abort();
    this.#loops.delete(name);
  }

  wake(name: string, reason: string): void {
    this.#loops.get(name)?.reconciler.wake(reason);
  }

  /** Engine events for cmesh objects (logs follow uses them to pick up new replicas). */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void {
    this.#engineListeners.add(listener);
    return () => this.#engineListeners.delete(listener);
  }

  /** Starts the engine event subscription; it runs until close(). */
  watch(): void {
    this.#watching = this.#watchEngine(this.#abort.signal);
  }

  /** Stops every loop and the subscription; containers keep running. */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const entry of this.#loops.values()) entry.abort.abort();
    this.#loops.clear();
    await this.#watching;
  }

  #wakeLater(name: string, action: string): void {
    for (const ms of SETTLE_WAKES_MS) {
      // unref: a pending follow-up never keeps the process alive; the loop ignores wakes after its abort.
      setTimeout(() => this.wake(name, `engine ${action} settled`), ms).unref();
    }
  }

  /**
   * A network link event names a container, not a project (the engine puts no labels on it): the mesh knows which
   * replica it reaches at its own address on that network, takes it out on a disconnect, and names its project.
   */
  #linkChanged(event: EngineEvent): string | undefined {
    const container = event.attributes?.['container'];
    const network = event.attributes?.['name'];
    if (event.type !== 'network' || !container || !network) return undefined;
    return this.#o.mesh?.linkChanged?.(container, network, event.action === 'connect');
  }

  /** Events only wake loops (they re-list); after a drop every loop is woken because events may have been missed. */
  #watchEngine(signal: AbortSignal): Promise<void> {
    return watchEngine({
      engine: this.#o.engine,
      signal,
      ...(this.#o.reconnect ? { initialMs: this.#o.reconnect.initialMs, maxMs: this.#o.reconnect.maxMs } : {}),
      onEvent: (event) => {
        this.#starts.see(event);
        // A link event always goes to the mesh (were an engine to label it, those would be the network's labels).
        const linked = this.#linkChanged(event);
        const project = event.labels[Labels.project] || linked;
        if (project) {
          // The mesh stops routing to a replica that died or froze now; the loop's observation may lag behind.
          if (event.type === 'container' && event.action === 'die') this.#o.mesh?.runEnded?.(project, event.id);
          if (event.type === 'container' && (event.action === 'pause' || event.action === 'unpause')) {
            this.#o.mesh?.runPaused?.(project, event.id, event.action === 'pause');
          }
          this.wake(project, `engine ${event.type} ${event.action}`);
          if (SETTLING_ACTIONS.has(event.action) || event.type === 'network') this.#wakeLater(project, event.action);
        } else if (event.type === 'container' && event.labels[SHARED_GATEWAY_LABEL] && SHARED_GATEWAY_ENDS.has(event.action)) {
          // The daemon's shared gateway has no project: it serves every meshed one, and each pass starts it again.
          for (const name of this.#loops.keys()) this.wake(name, `shared gateway ${event.action}`);
        }
        for (const listener of this.#engineListeners) listener(event);
      },
      onReconnect: () => {
        this.#starts.forgetAll();
        for (const name of this.#loops.keys()) this.wake(name, 'engine event stream reconnected');
      },
      onError: (error) => this.#o.emit({ type: 'error', time: Date.now(), project: '', error: error.toJSON() }),
    });
  }
}
