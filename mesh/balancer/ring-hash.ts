// Consistent hashing on a ring of virtual nodes: a key sticks to one member while it is usable, and a member
// leaving only moves the keys it owned (≈1/N), because every other member's points stay where they were.

import { type BalancerOptions, MemberSetBalancer } from './member-set.ts';
import type { PickContext } from './types.ts';

export interface RingHashOptions extends BalancerOptions {
  /** Virtual nodes per unit of weight (default 128); more points = smoother split, bigger ring. */
  vnodes?: number;
}

// Bounds the ring for a member with a huge weight; 4096 points already give a ~2 % split error.
const MAX_VNODES_PER_MEMBER = 4096;

/** MurmurHash3 x86 32-bit over the UTF-8 bytes: fast, well mixed, stable across processes and versions. */
export function murmur3(key: string, seed = 0): number {
  const data = Buffer.from(key, 'utf8');
  const len = data.length;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  // Tail bytes (0–3) in little-endian order, mixed like a block.
  const rest = len & 3;
  if (rest > 0) {
    let k = 0;
    for (let i = rest - 1; i >= 0; i--) k = (k << 8) | data[blocks + i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class RingHashBalancer extends MemberSetBalancer {
  readonly strategy = 'ring-hash';
  private readonly vnodes: number;
  // Parallel sorted arrays: point hash → member id; typed array keeps the ring compact and the search cheap.
  private points = new Uint32Array(0);
  private owners: string[] = [];

  constructor(opts: RingHashOptions = {}) {
    super(opts);
    this.vnodes = opts.vnodes ?? 128;
  }

  protected override membersChanged(): void {
    const entries: { h: number; id: string }[] = [];
    for (const m of this.members) {
      // Points depend only on the member's own id and weight, never on the others: that is what bounds remapping.
      const n = Math.min(MAX_VNODES_PER_MEMBER, Math.max(1, Math.round(this.vnodes * (m.weight || 1))));
      for (let v = 0; v < n; v++) entries.push({ h: murmur3(`${m.id}-${v}`), id: m.id });
    }
    entries.sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.points = Uint32Array.from(entries, (e) => e.h);
    this.owners = entries.map((e) => e.id);
  }

  pick(ctx?: PickContext): string | undefined {
    const c = this.candidates(ctx);
    if (c.length === 0) return undefined;
    // No key (e.g. the header is missing): any usable member will do.
    if (ctx?.hashKey === undefined) return c[this.randomIndex(c.length)]!.id;
    const allowed = new Set(c.map((m) => m.id));
    const n = this.points.length;
    let i = this.lowerBound(murmur3(ctx.hashKey));
    // Walk clockwise to the first usable owner: an unhealthy member's keys spill to its ring successors only.
    for (let step = 0; step < n; step++, i++) {
      const id = this.owners[i % n]!;
      if (allowed.has(id)) return id;
    }
    return undefined;
  }

  private lowerBound(h: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
