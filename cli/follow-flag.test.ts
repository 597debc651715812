import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followFlagAfterVerb } from './follow-flag.ts';

test('-f after logs is --follow; before the verb and elsewhere it stays the compose file', () => {
  assert.deepEqual(followFlagAfterVerb(['logs', '-f']), ['logs', '--follow']);
  assert.deepEqual(followFlagAfterVerb(['logs', '-f', 'web']), ['logs', '--follow', 'web']);
  assert.deepEqual(followFlagAfterVerb(['-f', 'a.yaml', 'logs', '-f', '--tail', '5']), ['-f', 'a.yaml', 'logs', '--follow', '--tail', '5']);
  assert.deepEqual(followFlagAfterVerb(['-p', 'x', 'logs', '--file', 'b.yaml', '-f']), ['-p', 'x', 'logs', '--file', 'b.yaml', '--follow']);
  assert.deepEqual(followFlagAfterVerb(['daemon', 'logs', '-f']), ['daemon', 'logs', '--follow']);
  assert.deepEqual(followFlagAfterVerb(['config', '-f', 'b.yaml']), ['config', '-f', 'b.yaml']);
  assert.deepEqual(followFlagAfterVerb(['-f', 'logs', 'up']), ['-f', 'logs', 'up']);
  assert.deepEqual(followFlagAfterVerb(['logs', '--', '-f']), ['logs', '--', '-f']);
});
