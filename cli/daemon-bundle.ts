// How the CLI launches the daemon: from a content-hashed esbuild bundle (bin/bundle-cache.mjs), so the long-lived
// daemon runs without tsx's loader thread and without dockerode's SSH/BuildKit modules until they are needed: idle
// ≈ 73–76 MiB RSS, ≈ 76–80 MiB with 30 replicas, against ≈ 145–150 MiB through tsx (bench/RESULTS.md, tidy and rss
// sections: ~41 MiB of it is node's own binary, file-backed and shared). The bundle is ASCII and without comments
// (bin/bundle-ascii.mjs): V8 keeps its source for the daemon's life. `--import tsx daemon/main.ts`, which runs the same
// sources, stays the fallback.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * V8 flags for the daemon. A 1 MiB semi-space keeps the young generation small: the daemon allocates little per event
 * and the proxy's body buffers live off-heap. Measured with bench/up.ts (RSS) and bench/proxy.ts (throughput).
 * A larger maximum is not only taken while the proxy is busy: an `up`/`down` grows new space too, and it stays
 * (RSS after 3×3 up/down cycles: up to +2 MB at 2 MiB, +6 at 4, +14 at 8), for ~1–2 k of the proxy's ~60 k
 * instructions a request (fewer scavenges; bench/RESULTS.md, proxycpu5).
 * `--expose-gc` only defines `gc()`, which nothing on the proxy path calls: the daemon runs one full GC after it built
 * the gateway image, whose ~100 MB context otherwise stayed as ~28 MB of heap until V8's next one (daemon/gateway-image.ts).
 */
export const DAEMON_V8_FLAGS = ['--max-semi-space-size=1', '--expose-gc'];

/**
 * Environment the daemon starts with (a value the user set wins). glibc gives each thread that mallocs an arena of its
 * own, up to 8 per core; node's V8 helpers and libuv's pool are 8 threads, and the arenas they touch stay resident:
 * two arenas keep ~2-4 MB of the daemon's RSS after some work (bench/RESULTS.md, rss section). Its threads do little
 * malloc work (the proxy runs on the main thread), so they do not queue on the arena lock measurably.
 * A fixed mmap threshold of 128 KiB (glibc's default start, which it otherwise raises to the largest block freed, up
 * to 32 MiB): blocks from 128 KiB up — V8's parse-time zones, 1 MiB file chunks — get pages of their own that go back
 * to the system when freed, instead of landing in the main heap, which fragments and keeps them (bench (c): `[heap]`
 * 11-13 -> 4.3 MB, RSS -5 to -6 MB; the daemon's mmap/munmap/brk/madvise calls stay below 0.15 a proxied request,
 * bench/RESULTS.md, rss session 13).
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

export interface DaemonLaunch {
  /** node arguments (flags + entry). */
  args: string[];
  /** Variables to add to the daemon's environment (DAEMON_ENV, less what the caller's environment sets). */
  env: Record<string, string>;
  /** Why the tsx fallback was used, if it was. */
  fallback?: string;
}

/**
 * The node arguments that start the daemon: the cached bundle when fresh, else a new one (≈ 0.3 s once per source
 * change), else — esbuild missing, no writable cache dir, a build error — tsx. A failed build warns once on stderr and
 * is not retried until the sources change (bin/bundle-cache.mjs). CMESH_DAEMON_BUNDLE=0 forces tsx.
 */
export async function daemonLaunch(env: Record<string, string | undefined>): Promise<DaemonLaunch> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const launchEnv = Object.fromEntries(Object.entries(DAEMON_ENV).filter(([k]) => env[k] === undefined));
  const viaTsx = (why: string): DaemonLaunch => ({ args: ['--import', tsx, join(REPO, 'daemon', 'main.ts')], env: launchEnv, fallback: why });
  if (env['CMESH_DAEMON_BUNDLE'] === '0') return viaTsx('CMESH_DAEMON_BUNDLE=0');
  // Loaded here, not at the top: only a start of the daemon needs it, not every CLI start.
  const { cacheDirs, ensureBundle } = await import('../bin/bundle-cache.mjs');
  const bundle = await ensureBundle(REPO, 'daemon', join('daemon', 'bundle-entry.ts'), cacheDirs(REPO, env));
  // CMESH_DAEMON_V8_FLAGS replaces the defaults (measuring other settings; an empty value runs node's defaults).
  const flags = env['CMESH_DAEMON_V8_FLAGS'] === undefined ? DAEMON_V8_FLAGS : env['CMESH_DAEMON_V8_FLAGS'].split(/\s+/).filter(Boolean);
  return bundle.path !== undefined ? { args: [...flags, bundle.path], env: launchEnv } : viaTsx(bundle.error);
}
