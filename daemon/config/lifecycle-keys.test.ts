// post_start / pre_stop, deploy.* and build.* keys cmesh maps onto its own semantics: what they normalize to, which
// warnings name what cmesh cannot do locally, and errors with file:line:col.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectToComposeYaml } from './render-yaml.ts';
import { load, loadError, service, where } from './test-helpers.ts';

const warnings = (text: string): string[] => load(text).warnings.map((w) => `${w.position?.line}:${w.position?.col} ${w.path}: ${w.message}`);

test('post_start and pre_stop: string or list commands, user, working_dir, privileged, environment', () => {
  const s = service(
    [
      'services:',
      '  web:',
      '    image: x',
      '    post_start:',
      '      - command: echo ready > /tmp/ready',
      '        user: "1000"',
      '        working_dir: /app',
      '        privileged: true',
      '        environment: [MODE=hook]',
      '    pre_stop:',
      '      - command: ["sh", "-c", "sync"]',
      '        environment: {FLUSH: "1"}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(s.postStart, [{ command: ['echo', 'ready', '>', '/tmp/ready'], user: '1000', workingDir: '/app', privileged: true, environment: { MODE: 'hook' } }]);
  assert.deepEqual(s.preStop, [{ command: ['sh', '-c', 'sync'], environment: { FLUSH: '1' } }]);
  assert.equal(service('services:\n  web:\n    image: x\n    post_start: []\n').postStart, undefined);
  // `cmesh config` prints them back in Compose's spelling, and that loads to the same hooks.
  const again = load(projectToComposeYaml({ ...load('services:\n  web:\n    image: x\n').project, services: { web: s } })).project.services['web'];
  assert.deepEqual([again?.postStart, again?.preStop], [s.postStart, s.preStop]);
});

test('bad lifecycle hooks are errors at file:line:col; unknown hook keys are named warnings', () => {
  const err = loadError('services:\n  web:\n    image: x\n    post_start:\n      - user: root\n    pre_stop: echo\n');
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(err), ['5:9 services.web.post_start[0]', '6:15 services.web.pre_stop']);
  assert.match(err.issues[0]!.message, /needs a non-empty "command"/);
  assert.match(err.issues[1]!.message, /expected a list of hooks/);
  assert.deepEqual(warnings('services:\n  web:\n    image: x\n    pre_stop:\n      - command: sync\n        timeout: 3s\n'), [
    '6:9 services.web.pre_stop[0].timeout: unknown key "timeout" is ignored',
  ]);
});
