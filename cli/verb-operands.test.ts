import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandAfterService } from './verb-operands.ts';

test('the command after the service is never parsed as cmesh options', () => {
  assert.deepEqual(commandAfterService(['exec', 'web', 'sh', '-c', 'echo -p']), ['exec', 'web', '--', 'sh', '-c', 'echo -p']);
  assert.deepEqual(commandAfterService(['exec', '-T', '-e', 'A=1', '--index', '2', 'web', 'ls', '-l']), [
    'exec', '-T', '-e', 'A=1', '--index', '2', 'web', '--', 'ls', '-l',
  ]);
  assert.deepEqual(commandAfterService(['-p', 'shop', '-f', 'x.yaml', 'exec', 'web', 'env']), ['-p', 'shop', '-f', 'x.yaml', 'exec', 'web', '--', 'env']);
  assert.deepEqual(commandAfterService(['exec', 'web']), ['exec', 'web'], 'no command: nothing to protect');
  assert.deepEqual(commandAfterService(['exec', 'web', '--', 'ls']), ['exec', 'web', '--', 'ls'], 'an explicit -- stays');
});

test('run -p publishes; the global -p before the verb stays the project name', () => {
  assert.deepEqual(commandAfterService(['-p', 'shop', 'run', '-p', '8080:80', '--rm', 'web', 'id', '-u']), [
    '-p', 'shop', 'run', '--publish', '8080:80', '--rm', 'web', '--', 'id', '-u',
  ]);
  assert.deepEqual(commandAfterService(['run', '-p8080:80', 'web']), ['run', '--publish=8080:80', 'web']);
});

test('rm -f forces, it names no file', () => {
  assert.deepEqual(commandAfterService(['-f', 'a.yaml', 'rm', '-f', '-s', 'web']), ['-f', 'a.yaml', 'rm', '--force', '-s', 'web']);
});

test('other verbs are left alone', () => {
  assert.deepEqual(commandAfterService(['logs', '-f', 'web']), ['logs', '-f', 'web']);
  assert.deepEqual(commandAfterService(['ps']), ['ps']);
});
