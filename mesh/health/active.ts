// Active health: probes each replica on its loopback port every interval and reports rise/fall transitions.

import type { HealthProbe } from '../../daemon/api/project.ts';
import { type ProbeResult, probeOnce } from './probe.ts';

export interface ProbeTarget {
  /** Replica id, e.g. `web#2`. */
  id: string;
  /** Host port of the probe endpoint (health.port's published endpoint, else the first one). */
  port: number;
  /** Defaults to 127.0.0.1; replicas only ever publish on loopback. */
  host?: string;
  /** Changes when the replica's container is replaced: the new one starts unhealthy again. */
  generation?: string;
  /** A new check starts from this state (a pool seeded with a health known elsewhere); default unhealthy. */
  healthy?: boolean;
}

export interface ActiveTransition {
  id: string;
  healthy: boolean;
  reason: string;
}

export interface ActiveHandlers {
  onTransition(t: ActiveTransition): void;
  /** Every probe result, for passive health's "passing probes after ejection" and the service table. */
  onProbe?(id: string, result: ProbeResult): void;
}

export interface ActiveOptions {
  signal?: AbortSignal;
  /** Random in [0,1); spreads the first probes so N replicas are not probed in the same tick. */
  rand?: () => number;
  /** The probe function; tests may replace it. */
  probe?: typeof probeOnce;
}

export const DEFAULT_HEALTH_PROBE: HealthProbe = { intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 2 };

/**
 * Probe spacing while a new replica makes its first rise (HAProxy's `fastinter`): it is joining, nobody routes to it
 * yet, and waiting a full interval between its rise probes only delays `up --wait`, scale-up and failover recovery.
 * Rise still needs `rise` consecutive passes; after the first rise (and for a replica that fell) the interval applies.
 * A refused probe of a booting replica costs one loopback connect, so 10 a second per joining replica is cheap.
 */
export const FIRST_RISE_INTERVAL_MS = 100;
/**
 * Spacing of the confirming probes of a first rise, once one has passed: the replica answers, and what `rise` asks
 * is that it goes on answering, not that it waits. At 200 ms between passes a 3×3 `up --wait` of routed services
 * spent ~270 ms (12 %) after every healthcheck had passed waiting for the mesh's second pass (bench/RESULTS.md, up3x3).
 */
export const FIRST_RISE_CONFIRM_MS = 25;

interface Check {
  target: ProbeTarget;
  healthy: boolean;
  /** Has risen once since it was added: its probes are spaced by the configured interval from then on. */
  risen: boolean;
  passes: number;
  fails: number;
  timer?: NodeJS.Timeout;
  stopped: boolean;
  /** Ends this replica's in-flight probe when it is removed. Probes hang on it, not on the checker's (long-lived)
   * signal: that one would carry a listener per probe in flight, one per replica of every pool at worst. */
  abort: AbortController;
}

export class ActiveChecker {
  private readonly checks = new Map<string, Check>();
  private probeCfg: HealthProbe;
  private readonly rand: () => number;
  private readonly probeFn: typeof probeOnce;
  private readonly signal?: AbortSignal;
  private readonly onAbort = () => this.close();
  private closed = false;

  constructor(
    probe: HealthProbe,
    private readonly handlers: ActiveHandlers,
    opts: ActiveOptions = {},
  ) {
    this.probeCfg = probe;
    this.rand = opts.rand ?? Math.random;
    this.probeFn = opts.probe ?? probeOnce;
    this.signal = opts.signal;
    if (opts.signal?.aborted) this.closed = true;
    else opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** New settings apply from each replica's next probe. */
  setProbe(probe: HealthProbe): void {
    this.probeCfg = probe;
  }

  healthy(id: string): boolean {
    return this.checks.get(id)?.healthy ?? false;
  }

  /** Replaces the target set: starts new ones (unhealthy until `rise` passes), stops gone ones, restarts replaced ones. */
  setTargets(targets: ProbeTarget[]): void {
    const want = new Map(targets.map((t) => [t.id, t]));
    for (const id of [...this.checks.keys()]) if (!want.has(id)) this.remove(id);
    for (const t of targets) this.add(t);
  }

  add(target: ProbeTarget): void {
    if (this.closed) return;
    const cur = this.checks.get(target.id);
    if (cur) {
      if (cur.target.generation === target.generation) {
        // Same container, maybe a new port: the next probe uses it, the health earned so far stands.
        cur.target = target;
        return;
      }
      this.remove(target.id);
    }
    const seeded = target.healthy === true;
    const check: Check = { target, healthy: seeded, risen: seeded, passes: 0, fails: 0, stopped: false, abort: new AbortController() };
    this.checks.set(target.id, check);
    this.schedule(check, this.rand() * Math.min(this.probeCfg.intervalMs, FIRST_RISE_INTERVAL_MS));
  }

  remove(id: string): void {
    const c = this.checks.get(id);
    if (!c) return;
    c.stopped = true;
    clearTimeout(c.timer);
    c.abort.abort();
    this.checks.delete(id);
  }

  close(): void {
    this.closed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    for (const id of [...this.checks.keys()]) this.remove(id);
  }

  private schedule(c: Check, delayMs: number): void {
    if (c.stopped || this.closed) return;
    c.timer = setTimeout(() => void this.run(c), delayMs);
    // Probing alone must not keep a process alive (tests, a daemon shutting down).
    c.timer.unref();
  }

  // The next probe is scheduled only after this one settles, so at most one is in flight per replica.
  private async run(c: Check): Promise<void> {
    if (c.stopped || this.closed) return;
    const cfg = this.probeCfg;
    const result = await this.probeFn({
      host: c.target.host ?? '127.0.0.1',
      port: c.target.port,
      path: cfg.path,
      timeoutMs: cfg.timeoutMs,
      signal: c.abort.signal,
    });
    if (c.stopped || this.closed) return;
    this.handlers.onProbe?.(c.target.id, result);
    if (result.ok) {
      c.passes++;
      c.fails = 0;
      if (!c.healthy && c.passes >= Math.max(1, cfg.rise)) {
        c.healthy = true;
        c.risen = true;
        this.handlers.onTransition({ id: c.target.id, healthy: true, reason: `${c.passes} passing probes (${result.reason})` });
      }
    } else {
      c.fails++;
      c.passes = 0;
      if (c.healthy && c.fails >= Math.max(1, cfg.fall)) {
        c.healthy = false;
        this.handlers.onTransition({ id: c.target.id, healthy: false, reason: `${c.fails} failing probes: ${result.reason}` });
      }
    }
    this.schedule(c, c.risen ? cfg.intervalMs : Math.min(cfg.intervalMs, c.passes > 0 ? FIRST_RISE_CONFIRM_MS : FIRST_RISE_INTERVAL_MS));
  }
}
