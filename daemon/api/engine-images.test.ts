import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withLatestTag } from './engine-images.ts';

test('withLatestTag: an untagged name gets :latest, as the engine lists it', () => {
  assert.equal(withLatestTag('redis'), 'redis:latest');
  assert.equal(withLatestTag('library/redis'), 'library/redis:latest');
  // A registry's port is not a tag.
  assert.equal(withLatestTag('127.0.0.1:5000/app'), '127.0.0.1:5000/app:latest');
});

test('withLatestTag: a tag, a digest reference or an image id stays as it is', () => {
  assert.equal(withLatestTag('redis:7'), 'redis:7');
  assert.equal(withLatestTag('127.0.0.1:5000/app:v2'), '127.0.0.1:5000/app:v2');
  assert.equal(withLatestTag('app@sha256:0123abcd'), 'app@sha256:0123abcd');
  assert.equal(withLatestTag('sha256:0123abcd'), 'sha256:0123abcd');
});
