// cmesh_grpc_responses_total: h2c calls counted by the grpc-status their replica answered, unknown codes as `other`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonMetrics } from './metrics.ts';

test('grpc-status of each call is counted per service; non-gRPC requests and odd codes do not grow the labels', async () => {
  const m = new DaemonMetrics({ defaultMetrics: false });
  m.request('shop', { service: 'rpc', method: 'POST', status: 200, durationMs: 1, upstream: 'rpc#1', grpcStatus: '0' });
  m.request('shop', { service: 'rpc', method: 'POST', status: 200, durationMs: 1, upstream: 'rpc#2', grpcStatus: '0' });
  m.request('shop', { service: 'rpc', method: 'POST', status: 200, durationMs: 1, upstream: 'rpc#2', grpcStatus: '14' });
  m.request('shop', { service: 'rpc', method: 'POST', status: 200, durationMs: 1, grpcStatus: 'nonsense' });
  m.request('shop', { service: 'web', method: 'GET', status: 200, durationMs: 1 });
  const data = await m.registry.getSingleMetric('cmesh_grpc_responses_total')!.get();
  const counts = Object.fromEntries(data.values.map((v) => [`${v.labels.service}/${v.labels.grpc_status}`, v.value]));
  assert.deepEqual(counts, { 'rpc/0': 2, 'rpc/14': 1, 'rpc/other': 1 });
});
