// The east-west gateway's esbuild bundles (init, supervisor, worker) as the daemon finds them: a cached bundle whose
// inputs' stats are unchanged is found in the daemon (stats only, no input read); anything else — inputs to re-hash
// (a checkout touched them), a stale bundle to build — is done by a short-lived child node process. Built in the
// daemon, esbuild's JS API, its output and the hashing of every input file stayed in the long-lived daemon's heap and
// malloc arenas: a daemon whose start had to build them held ~10 MiB more RSS for its life (bench/RESULTS.md, rss
// session 13), and every daemon of a new cmesh version builds them once. The re-hash alone read the worker bundle's
// ~200 inputs in the daemon, twice when it was stale (once for the label asked, once to list what else is stale).

import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDirs, freshByStats } from '../bin/bundle-cache.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** bin/bundle-cache.mjs on disk, for the child (the daemon's own copy is inside its bundle). */
const BUNDLE_CACHE = pathToFileURL(fileURLToPath(new URL('../bin/bundle-cache.mjs', import.meta.url))).href;
/** A build of the three takes ~1 s; under a heavy load several. Past this, the child is killed and the build fails. */
const BUILD_TIMEOUT_MS = 120_000;

/**
 * The child: for each bundle named in argv (label, entry pairs), the full freshness check (re-hashing the inputs when
 * their stats changed), else a build; prints `{ label: { path, built } | { error } }`.
 */
const CHILD = `
const [url, root, ...pairs] = process.argv.slice(1);
const { cacheDirs, ensureBundle, freshBundle } = await import(url);
const dirs = cacheDirs(root, process.env);
const out = {};
const jobs = [];
for (let i = 0; i < pairs.length; i += 2) {
  const label = pairs[i];
  const fresh = freshBundle(root, label, dirs);
  if (fresh !== undefined) out[label] = { path: fresh, built: false };
  else jobs.push(ensureBundle(root, label, pairs[i + 1], dirs, { warn: () => undefined }).then((r) => { out[label] = r.path === undefined ? r : { ...r, built: true }; }));
}
await Promise.all(jobs);
process.stdout.write(JSON.stringify(out));
`;

/** The prefix of buildInChild's log lines (bench/up-daemon-builds.ts looks for it). */
export const BUNDLE_LOG = 'east-west gateway bundles:';

/** A bundle's path (`built`: the child built it, rather than finding it unchanged), or why it cannot be had. */
export type BundleResult = { path: string; error?: undefined; built?: boolean } | { path?: undefined; error: string; built?: undefined };

/**
 * Runs the child for `jobs` (label → entry, relative to the root); resolves per label, never rejects. `log` gets one
 * line as it starts and one as it ends: a daemon that built bundles keeps more RSS than one that found them, and
 * bench/up.ts reads these lines to say which its figures come from.
 */
export function buildInChild(
  root: string,
  jobs: Record<string, string>,
  env: NodeJS.ProcessEnv,
  log?: (line: string) => void,
): Promise<Record<string, BundleResult>> {
  const labels = Object.keys(jobs);
  const started = Date.now();
  log?.(`${BUNDLE_LOG} checking ${labels.join(', ')} in a child process (built if stale)`);
  return runChild(root, jobs, env, labels).then((out) => {
    const ms = Date.now() - started;
    const built = labels.filter((l) => out[l]?.built === true);
    const unchanged = labels.filter((l) => out[l]?.built === false);
    const failures = labels.filter((l) => out[l]?.error !== undefined);
    const suffix =
      (unchanged.length > 0 ? ` (unchanged: ${unchanged.join(', ')})` : '') +
      (failures.length > 0 ? ` (failed: ${failures.join(', ')})` : '');
    const what = built.length > 0 ? `built ${built.join(', ')}` : 'nothing built';
    log?.(`${BUNDLE_LOG} ${what} in ${ms} ms${suffix}`);
    return out;
  });
}

function runChild(root: string, jobs: Record<string, string>, env: NodeJS.ProcessEnv, labels: string[]): Promise<Record<string, BundleResult>> {
  const failed = (why: string) => Object.fromEntries(labels.map((l) => [l, { error: why }]));
  const argv = ['--input-type=module', '-e', CHILD, BUNDLE_CACHE, root, ...Object.entries(jobs).flat()];
  return new Promise((resolve) => {
    // The daemon's V8 flags are not the child's: it is a plain node that exits when done.
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: BUILD_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    child.on('error', (err) => resolve(failed(`the bundle build process did not start: ${err.message}`)));
    child.on('close', (code, signal) => {
      try {
        const out = JSON.parse(stdout) as Record<string, BundleResult>;
        resolve(Object.fromEntries(labels.map((l) => [l, out[l] ?? { error: 'the bundle build process did not report it' }])));
      } catch {
        const last = stderr.trim().split('\n').at(-1) ?? '';
        resolve(failed(`the bundle build process ended (${signal ?? `exit ${code}`}) without a result${last ? `: ${last}` : ''}`));
      }
    });
  });
}

/** The gateway's bundles: label → entry. */
export const GATEWAY_BUNDLES: Readonly<Record<string, string>> = {
  'gateway-init': 'mesh/gateway/init.ts',
  'gateway-supervisor': 'mesh/gateway/supervisor-main.ts',
  gateway: 'mesh/gateway/main.ts',
};

/** One child at a time builds every stale gateway bundle: the first caller starts it, the others join it. */
let building: Promise<Record<string, BundleResult>> | undefined;

/**
 * The path of the gateway bundle `label` (GATEWAY_BUNDLES), fresh for the sources as they are now: proven by its
 * inputs' stats in the daemon, else checked (and built when stale) in a child process (`log` hears of a child this
 * call starts). `{ error }` when it cannot be had.
 */
export async function gatewayBundle(label: string, env: NodeJS.ProcessEnv = process.env, log?: (line: string) => void): Promise<BundleResult> {
  const entry = GATEWAY_BUNDLES[label];
  if (entry === undefined) return { error: `no gateway bundle named ${label}` };
  const dirs = cacheDirs(ROOT, env);
  const fresh = freshByStats(ROOT, label, dirs);
  if (fresh !== undefined) return { path: fresh };
  if (building === undefined) {
    const stale = Object.fromEntries(Object.entries(GATEWAY_BUNDLES).filter(([l]) => l === label || freshByStats(ROOT, l, dirs) === undefined));
    building = buildInChild(ROOT, stale, env, log).finally(() => {
      building = undefined;
    });
  }
  const result = (await building)[label];
  // Joined a child started for the others while this one was still fresh, or it changed since: one more build.
  return result ?? (await buildInChild(ROOT, { [label]: entry }, env, log))[label]!;
}
