// The gateway's drain reports: every 50 ms while a drain is under way here, no timer at all otherwise. The daemon waits
// on them (daemon/gateway-hub-drain.ts) before it stops a draining replica or removes a draining gateway. An idle
// gateway used to tick every 50 ms all the same, building every service's row just to find nothing draining
// (bench/gateway-idle.ts, bench/RESULTS.md "gwidle").

import type { GatewayTable } from '../../daemon/api/gateway-control.ts';
import type { Registry } from '../registry.ts';

export interface DrainWatch {
  /** A drain is under way: this gateway drains, or its table marks a replica draining. Cheap: read on every tick. */
  underWay(): boolean;
  /** Worth a report now: this gateway drains, or a draining replica still has requests in flight through it. */
  due(): boolean;
}

export class DrainReports {
  readonly #watch: DrainWatch;
  readonly #report: () => void;
  readonly #everyMs: number;
  readonly #signal: AbortSignal;
  #timer: NodeJS.Timeout | undefined;
  /** The last tick reported: the first tick that finds nothing due reports once more. */
  #wasDue = false;

  constructor(watch: DrainWatch, report: () => void, everyMs: number, signal: AbortSignal) {
    this.#watch = watch;
    this.#report = report;
    this.#everyMs = everyMs;
    this.#signal = signal;
    signal.addEventListener('abort', () => this.#disarm(), { once: true });
  }

  /** Something may have started a drain (a table, startDraining()): the timer runs from now on until it is over. */
  update(): void {
    if (this.#timer !== undefined || this.#signal.aborted || !this.#watch.underWay()) return;
    this.#timer = setInterval(() => this.#tick(), this.#everyMs);
  }

  #tick(): void {
    const underWay = this.#watch.underWay();
    const due = underWay && this.#watch.due();
    // One report more on the tick that finds nothing due: the daemon stops a draining replica once a report shows it with
    // nothing in flight here, and without it would learn that only from the next 1 s stats.
    if (due || this.#wasDue) this.#report();
    this.#wasDue = due;
    // Over (the table no longer names a draining replica, the gateway's drain was called off): the next update() arms it.
    if (!underWay) this.#disarm();
  }

  #disarm(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#wasDue = false;
  }
}

/** The table marks a replica draining: a walk of the table, nothing built (read on every tick of a drain). */
export function tableDrains(table: GatewayTable | undefined): boolean {
  return table?.services.some((s) => s.replicas.some((r) => r.draining)) ?? false;
}

/**
 * A replica its pool has draining still has requests in flight through this gateway. Only the rows of the pools whose
 * table entry marks a replica draining are built, and only during a drain.
 */
export function drainingInFlight(table: GatewayTable | undefined, registry: Registry): boolean {
  if (!table) return false;
  const pools = registry.list(table.project);
  return table.services.some(
    (s) => s.replicas.some((r) => r.draining) && pools.find((p) => p.service === s.name)?.row().replicas.some((r) => r.draining && r.inFlight > 0) === true,
  );
}
