// Start probes: cmesh runs a service's own healthcheck test through the engine's exec API every `start_interval`
// (100 ms by default) from the moment its container starts until the test first passes. Docker 20.10 runs the first
// healthcheck one whole `interval` after start (start_interval needs Engine ≥ 25), so depends_on chains and `--wait`
// would otherwise wait 5–30 s per level for containers that are ready in milliseconds. After the first pass (or the
// bound start_period + interval × retries) cmesh stops probing and Docker's own healthcheck is the steady state.

import type { DesiredProject } from '../api/desired.ts';
import type { ContainerEngine, ContainerInfo, ExecResult } from '../api/engine.ts';
import type { DaemonEvent } from '../api/events.ts';
import { Labels, replicaOf } from '../api/labels.ts';
import type { HealthcheckSpec } from '../api/project.ts';
import type { WakeSource } from './nap.ts';
import { Slots } from './slots.ts';
import { sleep } from './wait.ts';

/** Docker's defaults for the healthcheck timings a compose file leaves out. */
const DOCKER_INTERVAL_MS = 30_000;
const DOCKER_TIMEOUT_MS = 30_000;
const DOCKER_RETRIES = 3;
/** cmesh's start cadence when the file sets no start_interval (Docker's own 5 s default is its steady-state caution). */
export const DEFAULT_START_INTERVAL_MS = 100;

/** The command Docker runs for a healthcheck test, or undefined when the test is not ours to run (NONE, image's). */
export function probeCommand(hc: HealthcheckSpec | undefined): string[] | undefined {
  if (!hc || hc.disable) return undefined;
  const [kind, ...rest] = hc.test;
  if (kind === 'CMD' && rest.length > 0) return rest;
  // Docker runs CMD-SHELL with the platform shell: `/bin/sh -c` on Linux.
  if (kind === 'CMD-SHELL' && rest.length > 0) return ['/bin/sh', '-c', rest.join(' ')];
  return undefined;
}

export interface ProbeTimings {
  everyMs: number;
  timeoutMs: number;
  /** How long after start probing may go on: start_period + interval × retries. */
  windowMs: number;
}

export function probeTimings(hc: HealthcheckSpec): ProbeTimings {
  const interval = hc.intervalMs ?? DOCKER_INTERVAL_MS;
  return {
    everyMs: hc.startIntervalMs ?? DEFAULT_START_INTERVAL_MS,
    timeoutMs: hc.timeoutMs ?? DOCKER_TIMEOUT_MS,
    windowMs: (hc.startPeriodMs ?? 0) + interval * (hc.retries ?? DOCKER_RETRIES),
  };
}

export interface ProbeOutcome {
  container: ContainerInfo;
  passed: boolean;
  /** Execs started for this container start. */
  probes: number;
  /** From the container's start to the verdict. */
  elapsedMs: number;
}

export interface StartProberOptions {
  engine: ContainerEngine;
  /**
   * Probe execs in flight at once for the whole project (default 2). Each exec is a runc process start, which costs
   * about as much CPU as the container starts it competes with: 9 replicas probed every 100 ms at once would slow the
   * very starts they wait for.
   */
  maxInFlight?: number;
  /** The healthcheck the desired state gives this container's service (undefined: nothing to probe). */
  healthcheckOf: (container: ContainerInfo) => HealthcheckSpec | undefined;
  /** A probe passed (health flips to healthy for cmesh) or its window ended without a pass. */
  onOutcome: (outcome: ProbeOutcome) => void;
  signal: AbortSignal;
  now?: () => number;
}

interface Probe {
  /** The start it belongs to; learnt by one inspect when the engine listing did not say. */
  startedAt: number | undefined;
  passed: boolean;
  /** Docker gave its own verdict, or the container stopped: the loop ends at its next turn. */
  over: boolean;
}

/** One per project: at most one probe loop per container start, at most one exec in flight per container. */
export class StartProber {
  readonly #o: StartProberOptions;
  readonly #now: () => number;
  /** container id → the probe of its current start. */
  readonly #probes = new Map<string, Probe>();
  readonly #slots: Slots;

  constructor(options: StartProberOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#slots = new Slots(options.maxInFlight ?? 2);
  }

  /** Did the probe of this container's current start pass? (Engine list entries carry no start time: then by id.) */
  passed(c: ContainerInfo): boolean {
    const p = this.#probes.get(c.id);
    return p?.passed === true && (c.startedAt === undefined || p.startedAt === undefined || c.startedAt === p.startedAt);
  }

  /** Every container the engine lists goes through here: a fresh start with a healthcheck gets its probe loop. */
  see(c: ContainerInfo): void {
    const known = this.#probes.get(c.id);
    const restarted = known?.startedAt !== undefined && c.startedAt !== undefined && c.startedAt !== known.startedAt;
    if (known && c.state !== 'running') this.forget(c.id);
    else if (known && restarted) this.forget(c.id);
    else if (known) {
      if (c.health === 'healthy' || c.health === 'unhealthy') known.over = true; // Docker has judged: its word now
      return;
    }
    // Docker sets `starting` as part of the start of a container with a healthcheck; `none` means it has none.
    if (c.state !== 'running' || c.health !== 'starting') return;
    const hc = this.#o.healthcheckOf(c);
    const command = probeCommand(hc);
    if (!hc || !command) return;
    const probe: Probe = { startedAt: c.startedAt, passed: false, over: false };
    this.#probes.set(c.id, probe);
    void this.#run(c, probe, command, probeTimings(hc));
  }

  /** The container is (re)started: whatever was probed belongs to its previous run. */
  forget(id: string): void {
    const probe = this.#probes.get(id);
    if (probe) probe.over = true;
    this.#probes.delete(id);
  }

  /** Drops what is known about containers that are gone (called with a full listing of the project). */
  prune(present: readonly ContainerInfo[]): void {
    const ids = new Set(present.map((c) => c.id));
    for (const [id, probe] of this.#probes) {
      if (ids.has(id)) continue;
      probe.over = true;
      this.#probes.delete(id);
    }
  }

  async #run(c: ContainerInfo, probe: Probe, command: string[], t: ProbeTimings): Promise<void> {
    const { engine, signal } = this.#o;
    let probes = 0;
    /** A probe that outlived its timeout: no new one starts while the engine says it still runs. */
    let abandoned: ExecResult | undefined;
    try {
      const startedAt = probe.startedAt ?? (await engine.inspectContainer(c.id))?.startedAt ?? this.#now();
      probe.startedAt = startedAt;
      const until = startedAt + t.windowMs;
      while (!probe.over && !signal.aborted && this.#now() < until) {
        const turn = this.#now();
        if (abandoned && (await abandoned.stillRunning?.()) === true) {
          await sleep(t.everyMs, signal);
          continue;
        }
        abandoned = undefined;
        probes++;
        const release = await this.#slots.take(signal);
        let result: ExecResult;
        try {
          result = await engine.exec(c.id, command, { timeoutMs: Math.min(t.timeoutMs, until - this.#now()), signal });
        } finally {
          release();
        }
        if (probe.over) return;
        if (result.timedOut) abandoned = result;
        else if (result.exitCode === 0) {
          probe.passed = true;
          this.#o.onOutcome({ container: c, passed: true, probes, elapsedMs: this.#now() - startedAt });
          return;
        }
        await sleep(Math.max(0, turn + t.everyMs - this.#now()), signal);
      }
    } catch {
      // The container stopped or went away mid-probe (exec 409/404), or the project's loop ended: nothing to judge.
      return;
    }
    if (!probe.over && !signal.aborted) this.#o.onOutcome({ container: c, passed: false, probes, elapsedMs: this.#now() - (probe.startedAt ?? 0) });
  }
}

/**
 * The engine as the project's reconciler sees it: every listing feeds the prober, and a replica whose start probe
 * passed reads as healthy while Docker still says starting (`engineHealth` keeps Docker's word for `ps` and `dash`).
 * Docker's own healthy/unhealthy always wins: the probe only answers the start.
 */
export function probedEngine(engine: ContainerEngine, prober: StartProber): ContainerEngine {
  const overlay = (c: ContainerInfo): ContainerInfo => {
    prober.see(c);
    if (c.state !== 'running' || c.health !== 'starting' || !prober.passed(c)) return c;
    return { ...c, health: 'healthy', engineHealth: c.health };
  };
  return new Proxy(engine, {
    get(target, key) {
      if (key === 'listContainers') return async (...args: Parameters<ContainerEngine['listContainers']>) => (await target.listContainers(...args)).map(overlay);
      if (key === 'startContainer') {
        return (id: string) => {
          prober.forget(id);
          return target.startContainer(id);
        };
      }
      if (key === 'inspectContainer') {
        return async (id: string) => {
          const c = await target.inspectContainer(id);
          return c && overlay(c);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface ProjectProbesOptions {
  engine: ContainerEngine;
  project: string;
  getDesired: () => DesiredProject | undefined;
  emit: (event: DaemonEvent) => void;
  signal: AbortSignal;
  /** The project's engine events; a probe's pass is added to them so gates and `--wait` look again at once. */
  wake?: WakeSource;
  /** Also told of every pass (the loop re-observes, so `ps` and the mesh see the replica healthy). */
  onPass?: () => void;
  now?: () => number;
}

/** Wires a project's prober: the engine its reconciler uses, and its wake source with probe passes added. */
export function projectProbes(o: ProjectProbesOptions): { engine: ContainerEngine; wake: WakeSource; prober: StartProber } {
  const listeners = new Set<(fresh?: boolean) => void>();
  const now = o.now ?? Date.now;
  const prober = new StartProber({
    engine: o.engine,
    signal: o.signal,
    now,
    healthcheckOf: (c) => {
      const service = c.labels[Labels.service];
      return service === undefined ? undefined : o.getDesired()?.project.services[service]?.healthcheck;
    },
    onOutcome: ({ container, passed, probes, elapsedMs }) => {
      if (!passed) return; // Docker's healthcheck decides from here; nothing cmesh-specific to announce
      o.emit({
        type: 'health',
        time: now(),
        project: o.project,
        service: container.labels[Labels.service] ?? '',
        replica: replicaOf(container.labels) ?? 0,
        source: 'probe',
        healthy: true,
        probes,
        reason: `start probe passed ${elapsedMs} ms after start (${probes} ${probes === 1 ? 'probe' : 'probes'})`,
      });
      // Fresh: the pass is in the prober, which the next listing reads; a gate opens and `--wait` ends in this tick.
      for (const listener of listeners) listener(true);
      o.onPass?.();
    },
  });
  const wake: WakeSource = (listener) => {
    listeners.add(listener);
    const off = o.wake?.(listener);
    return () => {
      listeners.delete(listener);
      off?.();
    };
  };
  return { engine: probedEngine(o.engine, prober), wake, prober };
}
