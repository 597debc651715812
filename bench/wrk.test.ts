// bench/wrk.ts against reports wrk 4.1 printed on this host (with and without --latency, with socket errors).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrk, wrkMs } from './wrk.ts';

const WITH_LATENCY = `Running 1s test @ http://127.0.0.1:18777/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.97ms    3.54ms  30.79ms   89.86%
    Req/Sec     0.88k   249.31     1.12k    90.00%
  Latency Distribution
     50%  812.00us
     75%    3.45ms
     90%    6.63ms
     99%    1.02s
  880 requests in 1.00s, 2.36MB read
Requests/sec:    878.55
Transfer/sec:      2.36MB
`;

const WITH_ERRORS = `Running 5s test @ http://127.0.0.1:8080/bytes?n=1024
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.01ms    1.20ms  40.10ms   91.00%
    Req/Sec    21.40k     1.10k   23.00k    80.00%
  106512 requests in 5.00s, 127.30MB read
  Socket errors: connect 2, read 3, write 0, timeout 7
  Non-2xx or 3xx responses: 11
Requests/sec:  21302.40
Transfer/sec:     25.46MB
`;

test('a --latency report: rate, count, percentiles in ms whatever unit wrk chose', () => {
  const r = parseWrk(WITH_LATENCY);
  assert.equal(r.rps, 878.55);
  assert.equal(r.requests, 880);
  assert.equal(r.p50Ms, 0.812);
  assert.equal(r.p99Ms, 1020);
  assert.deepEqual([r.non2xx, r.socketErrors, r.timeouts, r.errors], [0, 0, 0, 0]);
});

test('socket errors are summed, timeouts kept apart, non-2xx counted; no --latency leaves the percentiles NaN', () => {
  const r = parseWrk(WITH_ERRORS);
  assert.equal(r.rps, 21302.4);
  assert.equal(r.requests, 106512);
  assert.equal(r.socketErrors, 12);
  assert.equal(r.timeouts, 7);
  assert.equal(r.non2xx, 11);
  assert.equal(r.errors, 23);
  assert.ok(Number.isNaN(r.p50Ms) && Number.isNaN(r.p99Ms));
});

test('a run that printed nothing reads as zero requests, not as a number from elsewhere', () => {
  const r = parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n');
  assert.deepEqual([r.rps, r.requests, r.errors], [0, 0, 0]);
  assert.ok(Number.isNaN(wrkMs('')) && Number.isNaN(wrkMs('12')));
  assert.equal(wrkMs('2.00m'), 120_000);
});
