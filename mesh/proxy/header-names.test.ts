import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FORWARDING, HOP_BY_HOP } from './forwarded-headers.ts';
import { equalsLower } from './ascii-case.ts';
import * as H from './header-names.ts';

test('headerKind classifies the names the proxy acts on, in any case', () => {
  const cases: [string, number][] = [
    ['Connection', H.H_CONNECTION],
    // Neither of the two spellings compared first (lower and Title-Case): the case-insensitive loop decides.
    ['CoNnEcTiOn', H.H_CONNECTION],
    ['content-LENGTH', H.H_CONTENT_LENGTH],
    ['KEEP-ALIVE', H.H_KEEP_ALIVE],
    ['Transfer-Encoding', H.H_TRANSFER_ENCODING],
    ['expect', H.H_EXPECT],
    ['Host', H.H_HOST],
    ['Content-Length', H.H_CONTENT_LENGTH],
    ['Idempotency-Key', H.H_IDEMPOTENCY_KEY],
    ['X-Idempotency-Key', H.H_IDEMPOTENCY_KEY],
    ['X-Forwarded-For', H.H_X_FORWARDED_FOR],
    ['x-forwarded-PROTO', H.H_X_FORWARDED_PROTO],
    ['X-Forwarded-Host', H.H_X_FORWARDED_HOST],
    ['X-Forwarded-Port', H.H_FORWARDING],
    ['Forwarded', H.H_FORWARDING],
    ['X-Real-IP', H.H_FORWARDING],
    ['TE', H.H_HOP],
    ['Trailer', H.H_HOP],
    ['Upgrade', H.H_HOP],
    ['Proxy-Connection', H.H_HOP],
    ['HTTP2-Settings', H.H_HOP],
  ];
  for (const [name, kind] of cases) assert.equal(H.headerKind(name), kind, name);
});

test('headerKind passes every other name, including near misses of the same length and first letter', () => {
  for (const name of ['', 'Date', 'Content-Type', 'Cookie', 'hosts', 'hos', 'Connectiom', 'Keep-Alivf', 'Content-Lengtx', 'Content-Lxngth', 'x-forwarded-fox', 'Tf', 'Accept', 'Exspect', 'Ḧost', '4ost', 'x'.repeat(200)]) {
    assert.equal(H.headerKind(name), H.H_OTHER, name);
  }
});

test('every hop-by-hop and forwarding name has a kind of its own (the sets and the classifier cannot drift apart)', () => {
  for (const name of HOP_BY_HOP) assert.ok(H.isHopByHop(H.headerKind(name)), name);
  for (const name of FORWARDING) {
    const kind = H.headerKind(name);
    assert.ok(kind !== H.H_OTHER && !H.isHopByHop(kind), name);
  }
  for (const name of ['host', 'content-length', 'idempotency-key']) assert.ok(!H.isHopByHop(H.headerKind(name)), name);
});

test('equalsLower compares in any ASCII case, without a copy', () => {
  assert.ok(equalsLower('Keep-Alive', 'keep-alive'));
  assert.ok(equalsLower('CLOSE', 'close'));
  assert.ok(!equalsLower('closed', 'close'));
  assert.ok(!equalsLower('clos', 'close'));
  assert.ok(!equalsLower('cl0se', 'close'));
});
