import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { PlainHistogram } from './metrics-histogram.ts';
import { IngressSeries } from './metrics-ingress.ts';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS = [0.0004, 0.001, 0.0011, 0.003, 0.02, 0.7, 4, 11, 60, 0.0999];

test("PlainHistogram's exposition is prom-client Histogram's for the same observations", async () => {
  const ours = new client.Registry();
  const d = new PlainHistogram<{ project: string; service: string }>('x_duration_seconds', 'help text', BUCKETS);
  ours.registerMetric(d as unknown as client.Metric);
  const web = d.series({ project: 'shop', service: 'web' });
  const api = d.series({ project: 'shop', service: 'api' });
  const theirs = new client.Registry();
  const h = new client.Histogram({ name: 'x_duration_seconds', help: 'help text', labelNames: ['project', 'service'], buckets: BUCKETS, registers: [theirs] });
  for (const [i, s] of SECONDS.entries()) {
    d.observe(i % 3 === 0 ? api : web, s);
    h.observe({ project: 'shop', service: i % 3 === 0 ? 'api' : 'web' }, s);
  }
  const sorted = async (r: client.Registry): Promise<string[]> => (await r.metrics()).split('\n').sort();
  assert.deepEqual(await sorted(ours), await sorted(theirs));
  d.reset();
  assert.match(await ours.metrics(), /x_duration_seconds_count\{project="shop",service="web"\} 0/);
});

test('IngressSeries: counts reach the counter at flush, by replica, method label and status class, once', async () => {
  const registry = new client.Registry();
  const counter = new client.Counter({ name: 'req_total', help: 'h', labelNames: ['project', 'service', 'replica', 'method', 'code_class', 'path'], registers: [registry] });
  const d = new PlainHistogram<{ project: string; service: string }>('d_seconds', 'h', BUCKETS);
  const s = new IngressSeries('shop', 'web', d, (u) => (u === undefined ? 'none' : u.split('#')[1]!));
  s.record('web#1', 'GET', 200, 3);
  s.record('web#1', 'get', 204, 3);
  s.record('web#2', 'BREW', 503, 1);
  s.record(undefined, 'POST', 0, 1);
  s.flush(counter);
  s.flush(counter);
  const text = await registry.metrics();
  assert.match(text, /req_total\{project="shop",service="web",replica="1",method="GET",code_class="2xx",path="ingress"\} 2\n/);
  assert.match(text, /req_total\{project="shop",service="web",replica="2",method="OTHER",code_class="5xx",path="ingress"\} 1\n/);
  assert.match(text, /req_total\{project="shop",service="web",replica="none",method="POST",code_class="none",path="ingress"\} 1/);
  s.record('web#1', 'GET', 200, 3);
  s.flush(counter);
  assert.match(await registry.metrics(), /replica="1",method="GET",code_class="2xx",path="ingress"\} 3\n/);
  assert.match(d.get().values.map((v) => `${v.metricName} ${v.value}`).join('\n'), /d_seconds_count 5/);
});
