// How many fresh-connection calls a gateway worker's retire still resets (issue #13's residual): this process is the
// cluster primary running the real supervisor, its worker the real Gateway in front of one loopback replica; per round,
// 24 callers open one connection a call until 300 calls were answered, the worker retires (its listening socket
// closes: refused connects are expected from then on), and it is unretired for the next round. Loopback only; every
// round bounded in time (the callers stop after 20 s whatever happens).
// Usage: npx tsx bench/gateway-retire-resets.ts [--rounds N] [--json]

import { benchArgs } from './args.ts';
import { CALLERS, freshLoad, next, startedGateway } from '../mesh/gateway/gateway-retire-kit.ts';
import { until } from '../mesh/gateway/supervisor-test-kit.ts';

const opts = benchArgs('usage: npx tsx bench/gateway-retire-resets.ts [--rounds N] [--json]', { rounds: { type: 'number' }, json: { type: 'boolean' } });
const rounds = opts.rounds ?? 10;
const cleanups: (() => Promise<void>)[] = [];
const started = Date.now();
try {
  const { port, worker } = await startedGateway((c) => cleanups.push(c));
  const resets: string[][] = [];
  let answered = 0;
  for (let round = 1; round <= rounds; round++) {
    const load = freshLoad(port);
    try {
      await until(`round ${round}: calls answered`, 15_000, async () => load.ok() >= 300);
      const retired = next('test-retired');
      worker.send({ type: 'test-retire' });
      await retired;
      await until(`round ${round}: the port to refuse`, 5000, async () => load.refused() >= CALLERS);
    } finally {
      await load.stop();
    }
    answered += load.ok();
    resets.push(load.other);
    const unretired = next('test-unretired');
    worker.send({ type: 'test-unretire' });
    const warnings = (await unretired).m.warnings ?? [];
    if (warnings.length > 0) throw new Error(`round ${round}: not listening again: ${warnings.join('; ')}`);
  }
  const failed = resets.reduce((n, r) => n + r.length, 0);
  const kinds = [...new Set(resets.flat())];
  const result = { rounds, callers: CALLERS, answered, failed, perRetire: resets.map((r) => r.length), kinds, seconds: (Date.now() - started) / 1000 };
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${rounds} retires, ${CALLERS} fresh-connection callers: ${answered} answered, ${failed} failed (per retire: ${result.perRetire.join(' ')}; ${kinds.join(', ') || 'none'}), ${result.seconds.toFixed(1)} s\n`);
} finally {
  for (const c of cleanups.reverse()) await c();
}
