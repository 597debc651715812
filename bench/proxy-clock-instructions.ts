// One clock read of the proxy's hot path, in instructions: N × performance.now() (imported from node:perf_hooks, as
// mesh/proxy reads it). proxycpu6 shares one read between a response's head and its settling; this is what it saves.
// Usage (under callgrind; the difference of two N over their difference is the per-read cost, start-up cancels):
//   valgrind --tool=callgrind node --max-semi-space-size=1 --import tsx bench/proxy-clock-instructions.ts N

import { performance } from 'node:perf_hooks';
import { benchArgs, usageError } from './args.ts';

const usage = 'usage: node --import tsx bench/proxy-clock-instructions.ts N';
const { positionals } = benchArgs(usage, {}, { positionals: 1 });
const n = Number(positionals[0]);
if (!Number.isInteger(n) || n < 0) usageError(`N must be a whole number ≥ 0, got '${positionals[0]}'`, usage);
let sum = 0;
for (let i = 0; i < n; i++) sum += performance.now();
console.log(`${n} reads, ${sum > 0 ? 'ok' : 'bad'}`);
