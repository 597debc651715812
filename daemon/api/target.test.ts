import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from './errors.ts';
import { assertTargetSupports, pickTarget, upTarget } from './target.ts';

test('target: the flag wins over CMESH_TARGET, which wins over x-cmesh.target; nothing chosen stays undefined', () => {
  assert.equal(pickTarget({ flag: 'local', env: 'swarm', file: 'swarm' }), 'local');
  assert.equal(pickTarget({ env: 'swarm', file: 'local' }), 'swarm');
  assert.equal(pickTarget({ env: '', file: 'swarm' }), 'swarm');
  assert.equal(pickTarget({}), undefined);
});

test('target: a bad flag or variable value is a usage error naming where it came from', () => {
  const bad = (from: string) => (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_USAGE' && err.message.startsWith(from) && /local, swarm/.test(err.hint ?? '');
  assert.throws(() => pickTarget({ flag: 'k8s' }), bad('--target "k8s"'));
  assert.throws(() => pickTarget({ env: 'SWARM', file: 'swarm' }), bad('CMESH_TARGET "SWARM"'));
});

test('target: a verb the swarm target lacks is refused by name; local runs everything', () => {
  assertTargetSupports('shop', 'swarm', 'up');
  assertTargetSupports('shop', 'local', 'logs');
  for (const verb of ['stop', 'start', 'kill', 'port', 'top', 'images', 'drain', 'exec', 'cp']) assertTargetSupports('shop', 'swarm', verb);
  assert.throws(
    () => assertTargetSupports('shop', 'swarm', 'run'),
    (err: unknown) =>
      err instanceof CmeshError && err.code === 'CMESH_E_TARGET_UNSUPPORTED' && err.message === '`cmesh run` is not supported yet on the swarm target (project "shop" runs there)',
  );
});

test('target: pause is refused on swarm for a reason of Swarm’s, with what to do instead', () => {
  for (const verb of ['pause', 'unpause']) {
    assert.throws(
      () => assertTargetSupports('shop', 'swarm', verb),
      (err: unknown) =>
        err instanceof CmeshError &&
        err.code === 'CMESH_E_TARGET_UNSUPPORTED' &&
        err.message.startsWith(`\`cmesh ${verb}\` is not available on the swarm target`) &&
        /no paused task state/.test(err.message) &&
        /cmesh stop <service>/.test(err.hint ?? '') &&
        err.details['reason'] === 'target-semantics',
    );
  }
});

test('target of an up: the request, else the project’s current one, else local; switching needs a down first', () => {
  assert.equal(upTarget('shop', undefined, undefined), 'local');
  assert.equal(upTarget('shop', undefined, 'swarm'), 'swarm');
  assert.equal(upTarget('shop', 'swarm', undefined), 'swarm');
  assert.equal(upTarget('shop', 'local', 'local'), 'local');
  assert.throws(
    () => upTarget('shop', 'local', 'swarm'),
    (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_TARGET_CONFLICT' && /cmesh down/.test(err.hint ?? ''),
  );
});
