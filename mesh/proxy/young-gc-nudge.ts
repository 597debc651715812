// Keeps dead body chunks from piling up in the daemon's malloc heap while it streams large bodies or tunnels.
//
// Why: node's parser copies every body chunk into a Buffer of its own (malloc'd, up to 64 KiB), a tunnel's socket
// reads (TCP mode, WebSocket) are fresh Buffers too, and V8 frees those only when a scavenge finds them dead. A 1 MiB
// young generation fills slowly with the few small objects a chunk brings, so V8 scavenges on "external memory pressure" instead, once the young chunks reach 32 MB (a fixed V8
// default the semi-space flag does not move): a bulk stream kept 30-57 MB of dead chunks in glibc's heap at its peak
// (test/e2e/streaming.docker.test.ts: RSS +33 MB, +57 MB once in CI; daemon --trace-gc: a scavenge for external
// memory pressure every ~35 ms at ~400 MiB/s). A minor GC every 4 MiB of body bytes keeps that to ~4-9 MB at no
// measured cost in throughput (a 1 MiB young generation scavenges in ~0.2-0.3 ms; bench/RESULTS.md, session 14).
//
// It needs `gc` on the global object: the daemon runs with `--expose-gc` (cli/daemon-bundle.ts DAEMON_V8_FLAGS).
// Without it (tsx, tests, the node floor) this counts and does nothing else.

/** Bytes of fresh Buffers between two minor GCs. */
export const NUDGE_BYTES = 4 * 2 ** 20;

export type GcFunction = (options: { type: 'minor' }) => void;

/** A byte counter that runs one minor `gc` each time `every` more bytes were counted (none when `gc` is undefined). */
export function youngGcNudge(gc: GcFunction | undefined, every = NUDGE_BYTES): (bytes: number) => void {
  let sinceLastGc = 0;
  return (bytes) => {
    sinceLastGc += bytes;
    if (sinceLastGc < every) return;
    sinceLastGc = 0;
    gc?.({ type: 'minor' });
  };
}

/** Counts the bytes of a Buffer the proxy was just handed: a parsed body chunk, a tunnel's read (the process's `gc`, if exposed). */
export const countFreshBytes = youngGcNudge((globalThis as { gc?: GcFunction }).gc);
