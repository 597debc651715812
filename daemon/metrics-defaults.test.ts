import assert from 'node:assert/strict';
import perfHooks, { PerformanceObserver } from 'node:perf_hooks';
import { mock, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import client from 'prom-client';
import { registerDefaultMetrics } from './metrics-defaults.ts';

setFlagsFromString('--expose-gc');
// gc() is a full (major) GC, gc({ type: 'minor' }) a scavenge.
const gc = runInNewContext('gc') as (o?: { type: 'minor' }) => void;

/** name → type and help of every metric a registry exposes. */
async function shape(r: client.Registry): Promise<Map<string, string>> {
  return new Map((await r.getMetricsAsJSON()).map((m) => [m.name, `${m.type} ${m.help}`]));
}

test("registerDefaultMetrics exposes exactly prom-client's default metrics (names, types, help)", async () => {
  const theirs = new client.Registry();
  client.collectDefaultMetrics({ register: theirs, prefix: 'cmesh_' });
  const ours = new client.Registry();
  const { stop } = registerDefaultMetrics(ours, 'cmesh_');
  try {
    assert.deepEqual(await shape(ours), await shape(theirs));
    assert.ok((await shape(ours)).has('cmesh_nodejs_gc_duration_seconds'));
  } finally {
    stop();
  }
});

test('the GC histogram counts every GC entry node reports, by kind, with prom-client buckets', async () => {
  const registry = new client.Registry();
  const { stop } = registerDefaultMetrics(registry, 'x_');
  // A reference observer: every entry node delivers, whatever the batching.
  const seen = { minor: 0, major: 0 };
  const ref = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === 1) seen.minor++;
      if (kind === 4) seen.major++;
    }
  });
  ref.observe({ entryTypes: ['gc'] });
  try {
    // Several GCs in one turn of the event loop: node hands them to observers in one batch.
    for (let i = 0; i < 5; i++) gc({ type: 'minor' });
    gc();
    await new Promise((r) => setTimeout(r, 50));
    const text = await registry.metrics();
    const count = (kind: string): number => Number(new RegExp(`x_nodejs_gc_duration_seconds_count\\{kind="${kind}"\\} (\\d+)`).exec(text)?.[1] ?? -1);
    assert.ok(seen.minor >= 5 && seen.major >= 1, JSON.stringify(seen));
    assert.equal(count('minor'), seen.minor);
    assert.equal(count('major'), seen.major);
    assert.match(text, /x_nodejs_gc_duration_seconds_bucket\{le="0\.001",kind="minor"\} \d+\n/);
    assert.match(text, /x_nodejs_gc_duration_seconds_bucket\{le="\+Inf",kind="major"\} \d+\n/);
  } finally {
    ref.disconnect();
    stop();
  }
});

test('the event-loop delay is sampled every 100 ms, not every 10 (an idle daemon woke 100 times a second for it)', async () => {
  // prom-client asks node for the histogram when the metric is registered: the resolution it asks for is the timer's.
  const asked: (number | undefined)[] = [];
  const real = perfHooks.monitorEventLoopDelay;
  const spy = mock.method(perfHooks, 'monitorEventLoopDelay', (o?: { resolution?: number }) => {
    asked.push(o?.resolution);
    return real(o);
  });
  const registry = new client.Registry();
  const { stop } = registerDefaultMetrics(registry, 'x_');
  try {
    assert.deepEqual(asked, [100]);
    // The lag metrics are all still there.
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('x_nodejs_eventloop_lag'));
    assert.equal(names.length, 8);
  } finally {
    stop();
    spy.mock.restore();
  }
});
