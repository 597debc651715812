// Cuts a V8 CPU profile (`node --cpu-prof`) into time slices and tells where each slice's samples went, by function:
// bench/proxy-ctlplane.ts profiles one daemon through idle and loaded phases, and the phases must not blur together.
// The profile's clock is V8's monotonic one in µs, the same CLOCK_MONOTONIC as process.hrtime in another process,
// so phase bounds taken in the bench (hrtimeUs) select the samples of that phase.

import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the profile's clock (µs, CLOCK_MONOTONIC). */
export const hrtimeUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface SliceCost {
  /** µs of samples in the slice (the sum of their intervals). */
  sampledUs: number;
  /** µs not idle: every sample but `(idle)`. */
  busyUs: number;
  /** Self µs by `name file:line`, largest first. */
  self: [string, number][];
  /** Inclusive µs by `name file:line` (a function counted once a sample however deep it recurses), largest first. */
  inclusive: [string, number][];
}

const label = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber + 1}`;

/** The samples taken in [fromUs, toUs), each weighted by the interval to the next sample. */
export function sliceCost(profile: CpuProfile, fromUs: number, toUs: number): SliceCost {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let sampledUs = 0;
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t >= toUs) continue;
    // The sample's weight: the time until the next one (the last sample's, the mean interval).
    const w = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    sampledUs += w;
    if (node.callFrame.functionName !== '(idle)') busyUs += w;
    const name = label(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + w);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + w);
    }
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { sampledUs, busyUs, self: sorted(self), inclusive: sorted(inclusive) };
}

export const readProfile = (file: string): CpuProfile => JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
