// The daemon's anonymous memory while it streams a gateway image's build context (the host's node and libraries,
// ~104 MB) to the engine, without an engine: ensureImageOf's real context goes to a child `cat > /dev/null` through a
// pipe, as fast as it takes it (a local engine reads its socket about as fast). RssAnon (glibc's heap, V8's heap, the
// 1 MiB chunks mmapped on their own) is sampled every 20 ms by a shell loop outside this process. Reports the peak over
// the start, and where it is 0.5 s after the build's end (after its full GC). PEAK_SINK_MBPS=<n>: the sink takes about
// n MB/s (a node child pausing after each MiB), as an engine that writes the context to disk under load does.
// Run it like the daemon: node --expose-gc --max-semi-space-size=1 --import tsx bench/daemon-memory-image-build.ts
// with MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 (cli/daemon-bundle.ts); prints one JSON line.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { BuildOptions, ContainerEngine } from '../daemon/api/engine.ts';
import { ensureImageOf, gatewayImageInputs } from '../daemon/gateway-image.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const samples: { t: number; kb: number }[] = [];
const sampler = spawn('sh', ['-c', `while :; do grep RssAnon /proc/${process.pid}/status; sleep 0.02; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
const t0 = performance.now();
sampler.stdout.setEncoding('utf8').on('data', (d: string) => {
  for (const m of d.matchAll(/RssAnon:\s+(\d+) kB/g)) samples.push({ t: performance.now() - t0, kb: Number(m[1]) });
});

let bytes = 0;
const engine = {
  inspectImage: async () => undefined,
  async *buildImage(o: BuildOptions) {
    const rate = Number(process.env['PEAK_SINK_MBPS'] ?? 0);
    const slow = `let n = 0; process.stdin.on('data', (c) => { n += c.length; if (n >= 1048576) { n = 0; process.stdin.pause(); setTimeout(() => process.stdin.resume(), ${Math.round(1000 / (rate || 1))}); } });`;
    const sink = rate > 0 ? spawn(process.execPath, ['-e', slow], { stdio: ['pipe', 'ignore', 'ignore'] }) : spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    o.context.on('data', (c: Buffer) => (bytes += c.length));
    o.context.pipe(sink.stdin);
    await once(sink, 'close');
    yield { kind: 'done' as const, imageId: 'sha256:none' };
  },
} as unknown as ContainerEngine;

// A salt of its own: the tag is never looked up in an engine (the fake has none), only the context matters.
const env = { ...process.env, CMESH_GATEWAY_BASE_IMAGE: '', CMESH_GATEWAY_IMAGE_SALT: `peak-${Date.now()}` };
const inputs = await gatewayImageInputs({ engine, env });
(globalThis as { gc?: () => void }).gc?.();
await sleep(300);
const before = samples.at(-1)?.kb ?? 0;
const started = performance.now() - t0;
await ensureImageOf({ engine, env }, inputs);
const ended = performance.now() - t0;
await sleep(500);
sampler.kill();
const during = samples.filter((s) => s.t >= started && s.t <= ended + 100);
const peak = Math.max(...during.map((s) => s.kb));
const mb = (kb: number): number => Math.round(kb / 102.4) / 10;
process.stdout.write(
  `${JSON.stringify({ sinkMbps: Number(process.env['PEAK_SINK_MBPS'] ?? 0) || 'unthrottled', contextMb: Math.round(bytes / 104857.6) / 10, buildMs: Math.round(ended - started), samples: during.length, rssAnonBeforeMb: mb(before), peakOverBeforeMb: mb(peak - before), afterOverBeforeMb: mb((samples.at(-1)?.kb ?? 0) - before), loadavg: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') })}\n`,
);
