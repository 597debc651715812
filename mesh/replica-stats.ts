// Per-replica request stats in fixed memory: a 60 × 1 s ring of counters and log-scale latency histograms.

const WINDOW_S = 60;
/** requests/s is over the last complete seconds of this span: recent enough for a dashboard, steady enough to read. */
const RATE_WINDOW_S = 10;
// Log bins: bin 0 is ≤ 0.1 ms, bin b covers (0.1·1.25^(b-1), 0.1·1.25^b]; 64 bins reach ~100 s with ≤ 12 % error.
const BINS = 64;
const MIN_MS = 0.1;
const GROWTH = 1.25;
const LOG_GROWTH = Math.log(GROWTH);
// Per-sample smoothing of the displayed latency EWMA (the balancer keeps its own, time-based one).
const EWMA_ALPHA = 0.2;

export interface StatsSnapshot {
  /** Requests and errors in the last 60 s. */
  requests: number;
  errors: number;
  /** errors / requests over the window, 0 when idle. */
  errorRate: number;
  requestsPerSec: number;
  /** null until the first sample. */
  ewmaMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

// The geometric middle of a bin: the best single guess for a value known only to lie inside it.
function binValue(b: number): number {
  if (b === 0) return MIN_MS;
  return MIN_MS * GROWTH ** (b - 0.5);
}

export class ReplicaStats {
  private readonly counts = new Uint32Array(WINDOW_S);
  private readonly errors = new Uint32Array(WINDOW_S);
  private readonly hist = new Uint32Array(WINDOW_S * BINS);
  // Which epoch second each slot currently holds; a slot from an older lap is stale and cleared on reuse.
  private readonly slotSecond = new Float64Array(WINDOW_S).fill(-1);
  // The window's sums, kept as slots are filled, reused and expire: a snapshot (the service table, read every 100 ms
  // for the east-west gateways' tables) reads them instead of merging 60 × 64 bins (~1 % of the daemon's CPU under
  // proxy load, profiled). A slot is `included` while its counts are in the sums.
  private readonly included = new Uint8Array(WINDOW_S);
  private readonly merged = new Float64Array(BINS);
  private windowRequests = 0;
  private windowErrors = 0;
  /** NaN until the first sample: a field that is only ever a double stays unboxed (null made it a fresh HeapNumber per record). */
  private ewma = Number.NaN;
  private readonly startSecond: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startSecond = Math.floor(now() / 1000);
  }

  record(latencyMs: number, ok: boolean): void {
    const sec = Math.floor(this.now() / 1000);
    const slot = sec % WINDOW_S;
    if (this.slotSecond[slot] !== sec) {
      this.exclude(slot);
      this.counts[slot] = 0;
      this.errors[slot] = 0;
      this.hist.fill(0, slot * BINS, (slot + 1) * BINS);
      this.slotSecond[slot] = sec;
      this.included[slot] = 1;
    } else if (this.included[slot] === 0) {
      // Current again after a snapshot left it out while the clock had stepped back.
      this.include(slot);
    }
    const bin = binOf(latencyMs);
    this.counts[slot]!++;
    this.hist[slot * BINS + bin]!++;
    this.windowRequests++;
    this.merged[bin]!++;
    if (!ok) {
      this.errors[slot]!++;
      this.windowErrors++;
    }
    const ewma = this.ewma;
    this.ewma = Number.isNaN(ewma) ? latencyMs : ewma + EWMA_ALPHA * (latencyMs - ewma);
  }

  /** Takes a slot's counts out of the window sums (it is reused, or fell out of the window). */
  private exclude(slot: number): void {
    if (this.included[slot] === 0) return;
    this.included[slot] = 0;
    this.windowRequests -= this.counts[slot]!;
    this.windowErrors -= this.errors[slot]!;
    for (let b = 0; b < BINS; b++) this.merged[b]! -= this.hist[slot * BINS + b]!;
  }

  /** Puts a slot back into the window sums (a clock that stepped back made it current again). */
  private include(slot: number): void {
    this.included[slot] = 1;
    this.windowRequests += this.counts[slot]!;
    this.windowErrors += this.errors[slot]!;
    for (let b = 0; b < BINS; b++) this.merged[b]! += this.hist[slot * BINS + b]!;
  }

  snapshot(): StatsSnapshot {
    const sec = Math.floor(this.now() / 1000);
    let recent = 0;
    for (let slot = 0; slot < WINDOW_S; slot++) {
      const age = sec - this.slotSecond[slot]!;
      const inWindow = this.slotSecond[slot]! >= 0 && age >= 0 && age < WINDOW_S;
      if (!inWindow) {
        this.exclude(slot);
        continue;
      }
      if (this.included[slot] === 0) this.include(slot);
      if (age >= 1 && age <= RATE_WINDOW_S) recent += this.counts[slot]!;
    }
    const requests = this.windowRequests;
    const errors = this.windowErrors;
    const merged = this.merged;
    // A replica younger than the rate window divides by the seconds it has existed, not by 10.
    const span = Math.max(1, Math.min(RATE_WINDOW_S, sec - this.startSecond));
    return {
      requests,
      errors,
      errorRate: requests > 0 ? errors / requests : 0,
      requestsPerSec: recent / span,
      ewmaMs: Number.isNaN(this.ewma) ? null : this.ewma,
      p50Ms: quantile(merged, requests, 0.5),
      p95Ms: quantile(merged, requests, 0.95),
      p99Ms: quantile(merged, requests, 0.99),
    };
  }
}

function quantile(hist: Float64Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b]!;
    if (seen >= rank) return binValue(b);
  }
  return binValue(hist.length - 1);
}
