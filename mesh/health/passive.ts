// Passive health (Envoy-style outlier detection): ejects replicas on what real requests saw, with an injected clock.

import type { AttemptOutcome } from '../upstream-pool.ts';

/** ok = takes traffic; ejected = serving its ejection time; probing = time over, waiting for `rise` passing probes. */
export type PassiveState = 'ok' | 'ejected' | 'probing';

export interface PassiveTransition {
  id: string;
  state: PassiveState;
  /** True while the member is out of rotation because of passive health (ejected or probing). */
  ejected: boolean;
  reason: string;
  /** How many times this member has been ejected (the backoff multiplier). */
  ejections: number;
  /** Epoch ms the current ejection ends, while state = ejected. */
  untilMs?: number;
}

export interface PassiveOptions {
  now?: () => number;
  /** Consecutive http-5xx / timeouts before an ejection (Envoy consecutive_5xx). */
  consecutiveFailures?: number;
  /** Ejection time = base × ejections of that member, capped at max. */
  baseEjectionMs?: number;
  maxEjectionMs?: number;
  /** At most this share of the members may be out passively at once, so outlier detection never empties a pool. */
  maxEjectionPercent?: number;
  /** Passing active probes needed after the ejection time before the member is used again. */
  rise?: number;
}

/** A member's record, for recordMember: the pool keeps it beside the Upstream it hands out. Valid until setMembers/forget. */
export interface PassiveHandle {
  readonly state: PassiveState;
}

interface Member {
  state: PassiveState;
  consecutive: number;
  ejections: number;
  until: number;
  passes: number;
  /** When it last came back to ok; a long good run forgives earlier ejections. */
  backAt: number;
}

export class PassiveHealth {
  private readonly members = new Map<string, Member>();
  private readonly now: () => number;
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxPercent: number;
  private rise: number;
  // Earliest ejection end, so tick() is O(1) on the hot path when nothing is due.
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    opts: PassiveOptions,
    private readonly onTransition: (t: PassiveTransition) => void = () => {},
  ) {
    this.now = opts.now ?? Date.now;
    this.threshold = opts.consecutiveFailures ?? 5;
    this.baseMs = opts.baseEjectionMs ?? 1000;
    this.maxMs = opts.maxEjectionMs ?? 60_000;
    this.maxPercent = opts.maxEjectionPercent ?? 50;
    this.rise = opts.rise ?? 2;
  }

  /** 0 = back to ok as soon as the ejection time is over (for pools without active checks). */
  setRise(rise: number): void {
    this.rise = Math.max(0, rise);
  }

  /** Replaces the member set: new ids start ok, gone ids are forgotten. */
  setMembers(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of this.members.keys()) if (!keep.has(id)) this.members.delete(id);
    for (const id of keep) {
      if (!this.members.has(id)) {
        this.members.set(id, { state: 'ok', consecutive: 0, ejections: 0, until: 0, passes: 0, backAt: this.now() });
      }
    }
  }

  /** Drops a member's history (its container was replaced); setMembers re-adds it fresh. */
  forget(id: string): void {
    this.members.delete(id);
  }

  state(id: string): PassiveState {
    this.tick();
    return this.members.get(id)?.state ?? 'ok';
  }

  info(id: string): { state: PassiveState; ejections: number; untilMs?: number } {
    const m = this.members.get(id);
    if (!m) return { state: 'ok', ejections: 0 };
    this.tick();
    return m.state === 'ejected' ? { state: m.state, ejections: m.ejections, untilMs: m.until } : { state: m.state, ejections: m.ejections };
  }

  /** Members out of rotation (ejected or probing): both count against max-ejection-percent. */
  outCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state !== 'ok') n++;
    return n;
  }

  record(id: string, outcome: AttemptOutcome): void {
    const m = this.members.get(id);
    if (m) this.recordMember(id, m, outcome);
  }

  /** The member's record for recordMember, or undefined when `id` is not a member. */
  handle(id: string): PassiveHandle | undefined {
    return this.members.get(id);
  }

  /** record() of a handle this instance gave out for `id` (no lookup: every request's result lands here). */
  recordMember(id: string, h: PassiveHandle, outcome: AttemptOutcome): void {
    const m = h as Member;
    this.tick();
    // Results of requests sent while ejected (panic routing) say nothing new; the ejection already stands.
    if (m.state === 'ejected') return;
    if (outcome === 'ok') {
      m.consecutive = 0;
      return;
    }
    if (outcome === 'connect-error' || outcome === 'reset') {
      // The process is gone or its socket is broken: waiting for four more victims helps nobody.
      this.eject(id, m, outcome);
      return;
    }
    m.consecutive++;
    if (m.consecutive >= this.threshold) this.eject(id, m, `${m.consecutive} consecutive ${outcome}`);
  }

  /** An active probe result; while probing, `rise` consecutive passes bring the member back. */
  onProbe(id: string, ok: boolean): void {
    const m = this.members.get(id);
    if (!m) return;
    this.tick();
    if (m.state !== 'probing') return;
    m.passes = ok ? m.passes + 1 : 0;
    if (m.passes >= this.rise) {
      m.state = 'ok';
      m.consecutive = 0;
      m.backAt = this.now();
      this.onTransition({ id, state: 'ok', ejected: false, reason: `${m.passes} passing probes after ejection`, ejections: m.ejections });
    }
  }

  /** Ends ejections whose time is over (ejected → probing). Cheap when nothing is due. */
  tick(): void {
    // Every pick and result ticks: with nobody ejected there is nothing to end, and no clock to read.
    if (this.nextExpiry === Number.POSITIVE_INFINITY) return;
    const now = this.now();
    if (now < this.nextExpiry) return;
    this.nextExpiry = Number.POSITIVE_INFINITY;
    for (const [id, m] of this.members) {
      if (m.state !== 'ejected') continue;
      if (m.until <= now && this.rise === 0) {
        m.state = 'ok';
        m.backAt = now;
        this.onTransition({ id, state: 'ok', ejected: false, reason: 'ejection time over', ejections: m.ejections });
      } else if (m.until <= now) {
        m.state = 'probing';
        m.passes = 0;
        this.onTransition({ id, state: 'probing', ejected: true, reason: `ejection over, needs ${this.rise} passing probes`, ejections: m.ejections });
      } else if (m.until < this.nextExpiry) {
        this.nextExpiry = m.until;
      }
    }
  }

  private eject(id: string, m: Member, reason: string): void {
    // A member already out (probing) re-ejecting does not grow the out-count; a new one must fit under the cap.
    if (m.state === 'ok') {
      const allowed = Math.floor((this.members.size * this.maxPercent) / 100);
      if (this.outCount() + 1 > allowed) return;
    }
    const now = this.now();
    // A member that behaved for a whole max-ejection period starts its backoff from scratch.
    if (m.state === 'ok' && m.ejections > 0 && now - m.backAt >= this.maxMs) m.ejections = 0;
    m.ejections++;
    m.state = 'ejected';
    m.consecutive = 0;
    m.passes = 0;
    m.until = now + Math.min(this.maxMs, this.baseMs * m.ejections);
    if (m.until < this.nextExpiry) this.nextExpiry = m.until;
    this.onTransition({ id, state: 'ejected', ejected: true, reason, ejections: m.ejections, untilMs: m.until });
  }
}
