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

test('deploy.restart_policy maps onto restart like Compose v2, and overrides `restart` in either order', () => {
  const s = service('services:\n  web:\n    image: x\n    deploy:\n      restart_policy: {condition: on-failure, max_attempts: 2, delay: 3s, window: 1m}\n');
  assert.deepEqual([s.restart, s.restartMaxRetries, s.restartDelayMs, s.restartWindowMs], ['on-failure', 2, 3000, 60_000]);
  assert.equal(service('services:\n  web:\n    image: x\n    deploy: {restart_policy: {}}\n').restart, 'always', 'condition defaults to any');
  assert.equal(service('services:\n  web:\n    image: x\n    deploy: {restart_policy: {condition: none}}\n').restart, 'no');
  for (const text of [
    'services:\n  web:\n    image: x\n    restart: on-failure:5\n    deploy: {restart_policy: {condition: any}}\n',
    'services:\n  web:\n    image: x\n    deploy: {restart_policy: {condition: any}}\n    restart: on-failure:5\n',
  ]) {
    const w = service(text);
    assert.deepEqual([w.restart, w.restartMaxRetries], ['always', undefined]);
    assert.ok(warnings(text).some((m) => /services\.web\.restart: `restart` is overridden by deploy\.restart_policy/.test(m)));
  }
  // `cmesh config` prints what `restart:` cannot say as deploy.restart_policy, and it loads back the same.
  const again = load(projectToComposeYaml({ ...load('services:\n  web:\n    image: x\n').project, services: { web: s } })).project.services['web'];
  assert.deepEqual([again?.restart, again?.restartMaxRetries, again?.restartDelayMs, again?.restartWindowMs], ['on-failure', 2, 3000, 60_000]);
});

test('deploy.mode: global is one replica, jobs are an error; update_config maps onto the rollout', () => {
  assert.equal(service('services:\n  web:\n    image: x\n    deploy: {mode: global}\n').replicas, 1);
  const job = loadError('services:\n  web:\n    image: x\n    deploy:\n      mode: replicated-job\n');
  assert.deepEqual(where(job), ['5:13 services.web.deploy.mode']);
  assert.match(job.issues[0]!.message, /Swarm job/);
  assert.deepEqual(where(loadError('services:\n  web:\n    image: x\n    deploy: {mode: global, replicas: 2}\n')), ['4:20 services.web.deploy.mode']);
  const text = 'services:\n  web:\n    image: x\n    deploy:\n      update_config: {parallelism: 2, order: stop-first, delay: 10s, failure_action: pause}\n';
  assert.deepEqual(service(text).update, { parallelism: 2, order: 'stop-first' });
  assert.deepEqual(warnings(text), [
    '5:58 services.web.deploy.update_config.delay: update_config.delay is Swarm\'s and ignored: a replica is replaced as soon as the previous one serves (x-cmesh.rollout)',
    '5:86 services.web.deploy.update_config.failure_action: failure_action "pause" is not honoured: a failed cmesh rollout always rolls the failed replica back and keeps the old ones serving',
  ]);
});

test('Swarm-only deploy keys are named warnings', () => {
  const w = warnings('services:\n  web:\n    image: x\n    deploy:\n      labels: {a: b}\n      endpoint_mode: dnsrr\n      placement: {constraints: [node.role==manager]}\n      rollback_config: {parallelism: 1}\n');
  assert.deepEqual(w.map((m) => m.slice(0, m.indexOf(': '))), ['5:7 services.web.deploy.labels', '6:7 services.web.deploy.endpoint_mode', '7:7 services.web.deploy.placement', '8:7 services.web.deploy.rollback_config']);
  assert.ok(w.every((m) => /Swarm|one engine/.test(m) && /ignored/.test(m)));
});

test('build: the classic builder keys are read; BuildKit-only ones are errors at file:line:col, cache_to a warning', () => {
  const s = service(
    [
      'services:',
      '  web:',
      '    build:',
      '      context: .',
      '      extra_hosts: ["registry.local:10.0.0.5"]',
      '      network: host',
      '      shm_size: 64m',
      '      ulimits: {nofile: {soft: 1024, hard: 2048}}',
      '      pull: true',
      '      tags: [example/web:dev]',
      '      cache_from: [example/web:cache]',
      '      platforms: [linux/amd64]',
      '      privileged: false',
      '',
    ].join('\n'),
  );
  const { context: _c, ...rest } = s.build!;
  assert.deepEqual(rest, {
    dockerfile: 'Dockerfile',
    args: {},
    labels: {},
    extraHosts: [{ host: 'registry.local', ip: '10.0.0.5' }],
    network: 'host',
    shmSizeBytes: 64 * 1024 * 1024,
    ulimits: { nofile: { soft: 1024, hard: 2048 } },
    pull: true,
    tags: ['example/web:dev'],
    cacheFrom: ['example/web:cache'],
    platform: 'linux/amd64',
  });
  const err = loadError('services:\n  web:\n    build:\n      context: .\n      ssh: [default]\n      secrets: [token]\n      platforms: [linux/amd64, linux/arm64]\n      additional_contexts: {base: ../base}\n');
  assert.deepEqual(where(err), ['5:7 services.web.build.ssh', '6:7 services.web.build.secrets', '7:18 services.web.build.platforms', '8:7 services.web.build.additional_contexts']);
  assert.match(err.issues[0]!.message, /the classic builder doesn't support SSH keys/);
  assert.match(err.issues[2]!.message, /multi-arch/);
  assert.match(err.issues[0]!.hint ?? '', /docker buildx build/);
  assert.deepEqual(warnings('services:\n  web:\n    build:\n      context: .\n      cache_to: [type=local,dest=/tmp/c]\n'), [
    '5:7 services.web.build.cache_to: build.cache_to needs BuildKit: the classic builder cannot export a build cache; ignored',
  ]);
});

test('develop.watch include, initial_sync and exec; sync+exec without exec is an error, misplaced keys warn', () => {
  const s = service(
    'services:\n  web:\n    image: x\n    develop:\n      watch:\n        - action: sync+exec\n          path: ./conf\n          target: /etc/app\n          include: ["*.conf"]\n          initial_sync: true\n          exec:\n            command: kill -HUP 1\n            user: root\n',
  );
  assert.deepEqual(s.watch, [
    { action: 'sync+exec', path: '/proj/conf', target: '/etc/app', ignore: [], include: ['*.conf'], initialSync: true, exec: { command: ['kill', '-HUP', '1'], user: 'root', environment: {} } },
  ]);
  const err = loadError('services:\n  web:\n    image: x\n    develop:\n      watch:\n        - action: sync+exec\n          path: ./conf\n          target: /etc/app\n');
  assert.deepEqual(where(err), ['6:11 services.web.develop.watch[0]']);
  assert.match(err.issues[0]!.message, /needs an "exec" command/);
  assert.deepEqual(warnings('services:\n  web:\n    image: x\n    develop:\n      watch:\n        - action: rebuild\n          path: .\n          initial_sync: true\n          exec: {command: "true"}\n'), [
    '8:11 services.web.develop.watch[0].initial_sync: initial_sync only applies to sync actions, not "rebuild"; ignored',
    '9:11 services.web.develop.watch[0].exec: exec only runs with action "sync+exec", not "rebuild"; ignored',
  ]);
});
