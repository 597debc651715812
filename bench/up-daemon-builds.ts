// What a bench's daemon built of the east-west gateway, from its log (daemon/gateway-bundle.ts and
// daemon/gateway-image.ts say when they build): a daemon that built the gateway's bundles or image holds more RSS
// than one that found them (bench/RESULTS.md, rss sessions 13 and 14), so a (c) figure without this is ambiguous.

import { readFile } from 'node:fs/promises';
import { BUNDLE_LOG } from '../daemon/gateway-bundle.ts';
import { IMAGE_LOG } from '../daemon/gateway-image.ts';

/** One kind of build as the log tells it: never started, started and not over yet (or failed), or done in `ms`. */
export type BuildState = { state: 'none' } | { state: 'started'; what: string } | { state: 'built'; what: string; ms: number; failed?: string };

export interface DaemonBuilds {
  bundles: BuildState;
  image: BuildState;
}

/** The last build of each kind in `text` (daemon log lines). */
export function buildsIn(text: string): DaemonBuilds {
  const out: DaemonBuilds = { bundles: { state: 'none' }, image: { state: 'none' } };
  for (const line of text.split('\n')) {
    for (const [kind, prefix] of [['bundles', BUNDLE_LOG], ['image', IMAGE_LOG]] as const) {
      const at = line.indexOf(prefix);
      if (at < 0) continue;
      const rest = line.slice(at + prefix.length).trim();
      const done = /^built (.+?) in (\d+) ms(?: \(unchanged: [^)]*\))?(?: \(failed: (.+)\))?$/.exec(rest);
      const started = /^(?:building|checking) (.+?)(?: in a child process(?: \(built if stale\))?| \(the engine lacks it\))$/.exec(rest);
      if (done) out[kind] = { state: 'built', what: done[1]!, ms: Number(done[2]), ...(done[3] ? { failed: done[3] } : {}) };
      else if (started) out[kind] = { state: 'started', what: started[1]! };
      // A child that found every bundle unchanged (their stats had moved, not their contents): nothing was built.
      else if (rest.startsWith('nothing built') && out[kind].state === 'started') out[kind] = { state: 'none' };
    }
  }
  return out;
}

/** The daemon log's size now: where a scenario's own lines start. */
export async function logOffset(logFile: string): Promise<number> {
  return (await readFile(logFile).catch(() => Buffer.alloc(0))).length;
}

/** What the daemon logged it built from byte `from` of its log on. */
export async function daemonBuilds(logFile: string, from = 0): Promise<DaemonBuilds> {
  const bytes = await readFile(logFile).catch(() => Buffer.alloc(0));
  return buildsIn(bytes.subarray(from).toString('utf8'));
}

const one = (name: string, b: BuildState): string | undefined =>
  b.state === 'none'
    ? undefined
    : b.state === 'started'
      ? `${name} ${b.what} STILL BUILDING (or failed)`
      : `${name} ${b.what} in ${b.ms} ms${b.failed ? ` (failed: ${b.failed})` : ''}`;

/** One line for a human: "built gateway bundles …, gateway image …" or "nothing built". */
export function buildsText(b: DaemonBuilds): string {
  const parts = [one('gateway bundles', b.bundles), one('gateway image', b.image)].filter(Boolean);
  return parts.length === 0 ? 'nothing built' : `built ${parts.join('; ')}`;
}

/** Whether anything was built (or started). */
export const builtAny = (b: DaemonBuilds): boolean => b.bundles.state !== 'none' || b.image.state !== 'none';
