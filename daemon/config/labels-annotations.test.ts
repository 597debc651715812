// label_file (read like env_file, `labels` on top) and annotations (kept for the engine; engine-compat gates them).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyContainerOptions } from '../engine/container-options.ts';
import { load, loadError, service, where } from './test-helpers.ts';

const files: Record<string, string> = { '/proj/a.labels': 'team=core\nowner=a\n# comment\n', '/proj/conf/b.labels': 'owner=b\ntier=web\n' };
const readFile = (p: string): string => {
  const text = files[p];
  if (text === undefined) throw new Error(`ENOENT ${p}`);
  return text;
};

test('label_file: files in order, then labels on top; one path or a list', () => {
  const s = service('services:\n  web:\n    image: x\n    label_file: [a.labels, ./conf/b.labels]\n    labels: {tier: api}\n', 'web', { readFile });
  assert.deepEqual(s.labels, { team: 'core', owner: 'b', tier: 'api' });
  assert.deepEqual(service('services:\n  web:\n    image: x\n    label_file: a.labels\n', 'web', { readFile }).labels, { team: 'core', owner: 'a' });
});

test('a missing label file is an error at its entry', () => {
  const err = loadError('services:\n  web:\n    image: x\n    label_file: [a.labels, nope.labels]\n', { readFile });
  assert.deepEqual(where(err), ['4:28 services.web.label_file[1]']);
  assert.match(err.issues[0]?.message ?? '', /label file \/proj\/nope\.labels not found/);
});

test('annotations: map or list, honoured (no warning) and sent as HostConfig.Annotations', () => {
  const r = load('services:\n  web:\n    image: x\n    annotations: ["com.example.a=1"]\n');
  assert.deepEqual(r.warnings, []);
  const options = r.project.services['web']?.options;
  assert.deepEqual(options?.annotations, { 'com.example.a': '1' });
  const body: { HostConfig?: Record<string, unknown> } = {};
  applyContainerOptions(body, options!);
  assert.deepEqual(body.HostConfig?.['Annotations'], { 'com.example.a': '1' });
  assert.deepEqual(service('services:\n  web:\n    image: x\n    annotations: {k: v}\n').options?.annotations, { k: 'v' });
});
