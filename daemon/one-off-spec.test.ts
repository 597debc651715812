// The one-off's create spec (oneOffSpec) for `cmesh run`'s Compose flags: --rm with -d (engine AutoRemove), -l,
// --cap-add/--cap-drop, --use-aliases; and what stays a one-off's whatever the flags say (cmesh's labels, no alias).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRequest } from './api/control.ts';
import { oneOffSpec } from './project-oneoff.ts';
import { project, svc } from './reconcile/testing.ts';

const p = project('shop', [svc('web', { labels: { team: 'a' }, options: { capAdd: ['NET_ADMIN'] } })]);
const base: RunRequest = { project: p, service: 'web', command: ['true'], env: {}, volumes: [], ports: [], tty: false, interactive: false, detach: true, noDeps: true };

test('--rm -d asks the engine to remove the one-off on exit; attached --rm leaves that to the attach', () => {
  assert.equal(oneOffSpec(p, { ...base, rm: true }, 'x').autoRemove, true);
  assert.equal(oneOffSpec(p, { ...base, rm: true, detach: false }, 'x').autoRemove, undefined, 'attached: the attach reads the exit code, then removes');
  assert.equal(oneOffSpec(p, base, 'x').autoRemove, undefined);
});

test('-l adds labels over the service’s, but cannot take a one-off’s identity away', () => {
  const spec = oneOffSpec(p, { ...base, labels: { team: 'b', job: 'migrate', 'dev.cmesh.oneoff': 'false' } }, 'x');
  assert.equal(spec.labels['team'], 'b');
  assert.equal(spec.labels['job'], 'migrate');
  assert.equal(spec.labels['dev.cmesh.oneoff'], 'true');
});

test('--cap-add/--cap-drop join the service’s capabilities without duplicates', () => {
  const spec = oneOffSpec(p, { ...base, capAdd: ['NET_ADMIN', 'SYS_TIME'], capDrop: ['CHOWN'] }, 'x');
  assert.deepEqual(spec.options?.capAdd, ['NET_ADMIN', 'SYS_TIME']);
  assert.deepEqual(spec.options?.capDrop, ['CHOWN']);
  assert.deepEqual(oneOffSpec(p, base, 'x').options?.capAdd, ['NET_ADMIN'], 'no flag: the service’s own');
});

test('no service alias unless --use-aliases', () => {
  assert.deepEqual(oneOffSpec(p, base, 'x').networks.map((n) => n.aliases), [[]]);
  assert.deepEqual(oneOffSpec(p, { ...base, useAliases: true }, 'x').networks.map((n) => n.aliases), [['web']]);
});
