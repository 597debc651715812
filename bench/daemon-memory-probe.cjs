// Bench-only preload for the daemon (bench/daemon-memory.ts --breakdown adds `--require` of this file to the daemon's
// flags): at each SIGUSR2 it appends the daemon's V8 view of its memory to $CMESH_MEMPROBE_OUT as one JSON line. Never
// loaded by a daemon a user starts.

const v8 = require('node:v8');
const { appendFileSync } = require('node:fs');

const out = process.env.CMESH_MEMPROBE_OUT;
const mb = (bytes) => Math.round(bytes / 104857.6) / 10;

function sample() {
  const mu = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const code = v8.getHeapCodeStatistics();
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.physical_space_size > 0) spaces[s.space_name.replace(/_space$/, '')] = [mb(s.space_used_size), mb(s.physical_space_size)];
  }
  return {
    rss: mb(mu.rss),
    heapUsed: mb(mu.heapUsed),
    heapPhysical: mb(heap.total_physical_size),
    external: mb(mu.external),
    arrayBuffers: mb(mu.arrayBuffers),
    mallocedByV8: mb(heap.malloced_memory),
    peakMallocedByV8: mb(heap.peak_malloced_memory),
    bytecode: mb(code.bytecode_and_metadata_size),
    code: mb(code.code_and_metadata_size),
    spaces,
  };
}

// One line per SIGUSR2 (bench/daemon-memory-breakdown.ts sends it), nothing in between: a timer sampling every 500 ms
// from the daemon's start allocated while V8's start-up parse zones sat in glibc's heap and pinned them there, so a
// probed daemon held ~6.7 MB more `[heap]` in 6 of 10 starts (0 of 10 unprobed; bench/RESULTS.md, rssbuild).
if (out) {
  process.on('SIGUSR2', () => {
    try {
      appendFileSync(out, `${JSON.stringify(sample())}\n`);
    } catch {
      // The bench removed its directory: nothing left to report to.
    }
  });
}
