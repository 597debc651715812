import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReplicaId, replicaId } from './labels.ts';

test('replicaId and parseReplicaId round-trip, and parse nothing else', () => {
  assert.equal(replicaId('web', 3), 'web#3');
  for (const [service, replica] of [['web', 1], ['api-v2', 12], ['a.b_c', 999_999]] as const) {
    assert.deepEqual(parseReplicaId(replicaId(service, replica)), { service, replica });
  }
  for (const bad of ['web', 'web#', '#1', 'web#1~next', 'web#x', 'web#1.5', 'web#-1', 'web#1234567', '']) {
    assert.equal(parseReplicaId(bad), undefined, bad);
  }
});
