// Self cost by function in a callgrind dump, V8's JIT code named through node's perf map: callgrind names JIT frames
// only by address (`0x…`), so each is looked up in the `--perf-basic-prof` map of the same process (the last entry
// written for a range wins: code space is reused). For bench/proxy-instructions.ts --keep dumps, run with
// --v8-flags "--max-semi-space-size=1 --expose-gc --perf-basic-prof" (the map is /tmp/perf-<valgrind's pid>.map).
// Usage: npx tsx bench/proxy-jit-functions.ts DUMP PERF_MAP REQUESTS [--top N] [--inclusive]   (instructions a request,
// largest first; REQUESTS may be a window's seconds, for instructions a second). --inclusive: each function's own cost
// plus that of what it called (a function reached through several frames or recursion is counted in each).

import { readFileSync } from 'node:fs';
import { benchArgs } from './args.ts';

const usage = 'usage: npx tsx bench/proxy-jit-functions.ts DUMP PERF_MAP REQUESTS [--top N] [--inclusive]';
const opts = benchArgs(usage, { top: { type: 'number' }, inclusive: { type: 'boolean' } }, { positionals: 3 });
const [dump, perfMap, requests] = opts.positionals as [string, string, string];
const top = opts.top ?? 40;

/** Cost per function, self (or inclusive with --inclusive). */
function selfCosts(file: string): Map<string, number> {
  const names = new Map<string, string>();
  const cost = new Map<string, number>();
  let fn: string | undefined;
  let afterCall = false;
  const named = (line: string, prefix: string): string => {
    const m = new RegExp(`^${prefix}=\\((\\d+)\\)(?: (.*))?$`).exec(line);
    if (m === null) return line.slice(prefix.length + 1);
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? m[1]!;
  };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = named(line, 'fn');
    else if (line.startsWith('cfn=')) named(line, 'cfn');
    else if (line.startsWith('calls=')) afterCall = true;
    else if (/^[0-9+*-]/.test(line) && fn !== undefined) {
      const n = Number(line.split(' ')[1] ?? 0);
      // A cost line right after `calls=` is the callee's inclusive cost: the caller's own only when counting inclusively.
      const call = afterCall;
      afterCall = false;
      if (!call || opts.inclusive === true) cost.set(fn, (cost.get(fn) ?? 0) + n);
    }
  }
  return cost;
}

/** perf map lines `start size name` (hex), later ones replacing earlier ones at the same start. */
function jitNamer(file: string): (addr: number) => string {
  const byStart = new Map<number, [number, string]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m !== null) byStart.set(Number.parseInt(m[1]!, 16), [Number.parseInt(m[2]!, 16), m[3]!]);
  }
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  return (addr) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    // The nearest starts at or below the address, a few back in case a later, shorter entry sits in between.
    for (let i = hi; i >= 0 && i > hi - 50; i--) {
      const [size, name] = byStart.get(starts[i]!)!;
      if (starts[i]! <= addr && addr < starts[i]! + size) return name;
    }
    return '(JIT, unmapped)';
  };
}

const nameOf = jitNamer(perfMap);
const byFunction = new Map<string, number>();
let jit = 0;
for (const [fn, n] of selfCosts(dump)) {
  const isJit = /^0x[0-9a-f]+$/.test(fn);
  const name = isJit ? nameOf(Number.parseInt(fn, 16)) : fn.replace(/'\d+$/, '');
  if (isJit) jit += n;
  byFunction.set(name, (byFunction.get(name) ?? 0) + n);
}
const per = Number(requests);
const total = [...byFunction.values()].reduce((a, b) => a + b, 0);
console.log(`instructions a request: ${(total / per).toFixed(0)} in all, ${(jit / per).toFixed(0)} in JIT code`);
for (const [name, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(n / per).toFixed(0).padStart(8)}  ${name.slice(0, 150)}`);
}
