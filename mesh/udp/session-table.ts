// The UDP forwarder's sessions keyed by client address, kept in least-recently-active order: idle expiry and the
// session cap both take from the front, so neither ever scans live sessions.

export interface TableEntry {
  /** `ip:port` (or `[ip6]:port`) of the client. */
  readonly key: string;
  /** Epoch ms of the last datagram either way (Envoy's UDP idle_timeout counts both directions too). */
  lastActive: number;
}

export class SessionTable<S extends TableEntry> {
  readonly #byKey = new Map<string, S>();

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): S | undefined {
    return this.#byKey.get(key);
  }

  /** Inserts or refreshes: the entry moves to the back (most recently active). */
  touch(entry: S, now: number): void {
    entry.lastActive = now;
    this.#byKey.delete(entry.key);
    this.#byKey.set(entry.key, entry);
  }

  delete(key: string): void {
    this.#byKey.delete(key);
  }

  /** The least recently active entry, the one the cap evicts. */
  oldest(): S | undefined {
    for (const s of this.#byKey.values()) return s;
    return undefined;
  }

  /** Removes and returns every entry idle for at least idleMs. */
  expire(now: number, idleMs: number): S[] {
    const out: S[] = [];
    for (const s of this.#byKey.values()) {
      if (now - s.lastActive < idleMs) break;
      out.push(s);
    }
    for (const s of out) this.#byKey.delete(s.key);
    return out;
  }

  values(): IterableIterator<S> {
    return this.#byKey.values();
  }

  clear(): S[] {
    const all = [...this.#byKey.values()];
    this.#byKey.clear();
    return all;
  }
}
