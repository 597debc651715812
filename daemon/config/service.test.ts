// Every supported service key, in short and long forms, through the loader.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectToComposeYaml } from './render-yaml.ts';
import { load, loadError, service, where } from './test-helpers.ts';

const svc = (body: string, opts = {}) => service(`services:\n  web:\n${body.replace(/^/gm, '    ')}\n`, 'web', opts);

test('defaults of a minimal service', () => {
  const s = svc('image: nginx');
  assert.equal(s.image, 'nginx');
  assert.equal(s.replicas, 1);
  assert.equal(s.restart, 'on-failure');
  assert.equal(s.stopGracePeriodMs, 10_000);
  assert.deepEqual(s.networks, { default: { aliases: [] } });
  assert.deepEqual([s.environment, s.labels, s.dependsOn, s.ports, s.expose, s.volumes, s.profiles, s.watch], [{}, {}, {}, [], [], [], [], []]);
  assert.deepEqual(s.position, { file: '/proj/compose.yaml', line: 2, col: 3 });
});

test('build: string and long form with list or map args', () => {
  assert.deepEqual(svc('build: ./app').build, { context: '/proj/app', dockerfile: 'Dockerfile', args: {}, labels: {} });
  const b = svc('build:\n  context: ..\n  dockerfile: docker/Dockerfile.dev\n  target: dev\n  args: [A=1, "B=x=y", FROM_ENV, NOT_SET]\n  labels: {team: core}\n  no_cache: true', { env: { FROM_ENV: 'e' } }).build;
  assert.deepEqual(b, { context: '/', dockerfile: 'docker/Dockerfile.dev', target: 'dev', args: { A: '1', B: 'x=y', FROM_ENV: 'e' }, labels: { team: 'core' }, noCache: true });
  assert.deepEqual(svc('build:\n  args:\n    N: 1\n    E:').build?.args, { N: '1' });
  assert.equal(svc('build: https://github.com/x/y.git#main').build?.context, 'https://github.com/x/y.git#main');
  assert.equal(svc('build: {}').build?.context, '/proj');
});

test('build.dockerfile_inline is honoured (no warning) and excludes build.dockerfile', () => {
  const { project, warnings } = load('services:\n  web:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM busybox\n        RUN echo hi\n');
  assert.equal(project.services['web']?.build?.dockerfileInline, 'FROM busybox\nRUN echo hi\n');
  assert.deepEqual(warnings, []);
  const err = loadError('services:\n  web:\n    build:\n      dockerfile: Dockerfile\n      dockerfile_inline: FROM busybox\n');
  assert.deepEqual(where(err), ['5:7 services.web.build.dockerfile_inline']);
  assert.match(err.issues[0]?.message ?? '', /mutually exclusive/);
});

test('command and entrypoint: strings are shell-split, lists kept', () => {
  const s = svc(`image: x\ncommand: sh -c "echo hi && sleep 1"\nentrypoint: ["/bin/tini", "--", 3]`);
  assert.deepEqual(s.command, ['sh', '-c', 'echo hi && sleep 1']);
  assert.deepEqual(s.entrypoint, ['/bin/tini', '--', '3']);
  assert.deepEqual(svc('image: x\nentrypoint: []').entrypoint, []);
});

test('environment: list and map, bare keys from the environment, numbers and booleans as text', () => {
  const opts = { env: { PASS: 'secret' } };
  assert.deepEqual(svc('image: x\nenvironment: [A=1, "B=", PASS, UNSET, "C=a=b"]', opts).environment, { A: '1', B: '', PASS: 'secret', C: 'a=b' });
  assert.deepEqual(svc('image: x\nenvironment:\n  N: 1\n  T: true\n  PASS:\n  E: ""', opts).environment, { N: '1', T: 'true', PASS: 'secret', E: '' });
});

test('env_file: string, list, long form with required:false; environment wins', () => {
  const files: Record<string, string> = { '/proj/a.env': 'A=1\nB=1\n', '/proj/conf/b.env': 'B=2\nC=${A_FROM_ENV:-x}\n' };
  const readFile = (p: string) => {
    const t = files[p];
    if (t === undefined) throw new Error('ENOENT');
    return t;
  };
  const s = svc('image: x\nenv_file:\n  - a.env\n  - path: ./conf/b.env\n  - path: missing.env\n    required: false\nenvironment: {C: env}', { readFile });
  assert.deepEqual(s.environment, { A: '1', B: '2', C: 'env' });
  // Each file read keeps its own values (the Kubernetes export makes one ConfigMap of each); the missing one is absent.
  assert.deepEqual(s.envFiles, [
    { file: '/proj/a.env', values: { A: '1', B: '1' } },
    { file: '/proj/conf/b.env', values: { B: '2', C: 'x' } },
  ]);
  assert.equal(svc('image: x\nenvironment: {C: env}').envFiles, undefined);
  assert.deepEqual(svc('image: x\nenv_file: a.env', { readFile }).environment, { A: '1', B: '1' });
  const err = loadError('services:\n  web:\n    image: x\n    env_file: nope.env\n', { readFile });
  assert.equal(err.code, 'CMESH_E_ENV_FILE');
  assert.deepEqual(where(err), ['4:15 services.web.env_file']);
});

test('ports: long syntax fields', () => {
  const s = svc('image: x\nports:\n  - target: 80\n    published: "8080"\n    host_ip: 0.0.0.0\n    protocol: udp\n    mode: host\n    name: web\n    app_protocol: http\n  - target: 443');
  assert.deepEqual(s.ports, [
    { target: 80, published: 8080, hostIp: '0.0.0.0', protocol: 'udp', name: 'web', appProtocol: 'http' },
    { target: 443, protocol: 'tcp' },
  ]);
});

test('ports: a host range for one container port, short and long syntax, without a warning; config prints it back', () => {
  const { project, warnings } = load('services:\n  web:\n    image: x\n    ports: ["80-90:8080", {target: 443, published: "8443-8450"}]\n');
  assert.deepEqual(project.services['web']?.ports, [
    { target: 8080, published: 80, publishedEnd: 90, hostIp: '127.0.0.1', protocol: 'tcp' },
    { target: 443, published: 8443, publishedEnd: 8450, hostIp: '127.0.0.1', protocol: 'tcp' },
  ]);
  assert.deepEqual(warnings, []);
  assert.match(projectToComposeYaml(project), /published: 80-90\n/);
});

test('published ports default to 127.0.0.1, or x-cmesh.bind', () => {
  assert.equal(svc('image: x\nports: ["8080:80"]').ports[0]?.hostIp, '127.0.0.1');
  assert.equal(svc('image: x\nports: ["8080:80"]\nx-cmesh: {bind: 0.0.0.0}').ports[0]?.hostIp, '0.0.0.0');
  assert.equal(svc('image: x\nports: ["80"]').ports[0]?.hostIp, undefined);
});

test('expose, replicas, scale', () => {
  assert.deepEqual(svc('image: x\nexpose: [3000, "4000/tcp", "5000-5002"]').expose, [3000, 4000, 5000, 5001, 5002]);
  assert.equal(svc('image: x\ndeploy: {replicas: 3}').replicas, 3);
  assert.equal(svc('image: x\nscale: 4').replicas, 4);
  assert.equal(svc('image: x\nscale: 2\ndeploy: {replicas: 2}').replicas, 2);
  assert.equal(svc('image: x\ndeploy: {replicas: 0}').replicas, 0);
});

test('healthcheck: string, list, durations, disable', () => {
  assert.deepEqual(svc('image: x\nhealthcheck:\n  test: curl -f http://localhost/\n  interval: 1m30s\n  timeout: 10s\n  retries: 3\n  start_period: 40s\n  start_interval: 5s').healthcheck, {
    test: ['CMD-SHELL', 'curl -f http://localhost/'],
    disable: false,
    intervalMs: 90_000,
    timeoutMs: 10_000,
    retries: 3,
    startPeriodMs: 40_000,
    startIntervalMs: 5000,
  });
  assert.deepEqual(svc('image: x\nhealthcheck: {test: ["CMD", "pg_isready"]}').healthcheck?.test, ['CMD', 'pg_isready']);
  assert.deepEqual(svc('image: x\nhealthcheck: {disable: true}').healthcheck, { test: ['NONE'], disable: true });
  assert.equal(svc('image: x\nhealthcheck: {test: [NONE]}').healthcheck?.disable, true);
});

test('depends_on: list and long form', () => {
  const p = load('services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy, restart: true}\n      mig: {condition: service_completed_successfully, required: false}\n  db: {image: pg}\n  mig: {image: m}\n  w2: {image: x, depends_on: [db]}\n').project;
  assert.deepEqual(p.services['web']?.dependsOn, {
    db: { condition: 'service_healthy', restart: true, required: true },
    mig: { condition: 'service_completed_successfully', restart: false, required: false },
  });
  assert.deepEqual(p.services['w2']?.dependsOn, { db: { condition: 'service_started', restart: false, required: true } });
});

test('optional dependency on an unknown service is dropped with a warning', () => {
  const r = load('services:\n  web:\n    image: x\n    depends_on:\n      ghost: {required: false}\n');
  assert.deepEqual(r.project.services['web']?.dependsOn, {});
  assert.match(r.warnings[0]?.message ?? '', /optional dependency "ghost"/);
});

test('restart policies', () => {
  assert.equal(svc('image: x\nrestart: "no"').restart, 'no');
  assert.equal(svc('image: x\nrestart: no').restart, 'no');
  assert.equal(svc('image: x\nrestart: always').restart, 'always');
  assert.equal(svc('image: x\nrestart: unless-stopped').restart, 'unless-stopped');
  const s = svc('image: x\nrestart: on-failure:5');
  assert.deepEqual([s.restart, s.restartMaxRetries], ['on-failure', 5]);
});

test('labels: list and map', () => {
  assert.deepEqual(svc('image: x\nlabels: ["a=1", "b", "c=x=y"]').labels, { a: '1', b: '', c: 'x=y' });
  assert.deepEqual(svc('image: x\nlabels: {a: 1, b: true}').labels, { a: '1', b: 'true' });
});

test('volumes: short bind/named/anonymous detection, ~ and relative paths, long syntax', () => {
  const r = load(
    'services:\n  web:\n    image: x\n    volumes:\n      - ./src:/app/src\n      - ../shared:/shared:ro,z\n      - ~/cache:/cache\n      - /abs:/abs:rw\n      - data:/data\n      - /anon\n      - type: bind\n        source: ./conf\n        target: /etc/conf\n        read_only: true\n        bind: {create_host_path: true}\n      - type: volume\n        source: data\n        target: /data2\n      - type: tmpfs\n        target: /tmp\nvolumes:\n  data:\n',
    { homeDir: '/home/me' },
  );
  assert.deepEqual(r.project.services['web']?.volumes, [
    { type: 'bind', source: '/proj/src', target: '/app/src', readOnly: false, createHostPath: true },
    { type: 'bind', source: '/shared', target: '/shared', readOnly: true, createHostPath: true, selinux: 'z' },
    { type: 'bind', source: '/home/me/cache', target: '/cache', readOnly: false, createHostPath: true },
    { type: 'bind', source: '/abs', target: '/abs', readOnly: false, createHostPath: true },
    { type: 'volume', source: 'data', target: '/data', readOnly: false },
    { type: 'volume', target: '/anon', readOnly: false },
    { type: 'bind', source: '/proj/conf', target: '/etc/conf', readOnly: true, createHostPath: true },
    { type: 'volume', source: 'data', target: '/data2', readOnly: false },
    { type: 'tmpfs', target: '/tmp', readOnly: false },
  ]);
});

test('networks: list and map with aliases', () => {
  const p = load('services:\n  web:\n    image: x\n    networks:\n      front:\n        aliases: [www, site]\n      back:\n  api:\n    image: y\n    networks: [back]\nnetworks:\n  front: {}\n  back: {}\n').project;
  assert.deepEqual(p.services['web']?.networks, { front: { aliases: ['www', 'site'] }, back: { aliases: [] } });
  assert.deepEqual(p.services['api']?.networks, { back: { aliases: [] } });
  assert.equal(p.networks['default'], undefined);
});

test('working_dir, user, stop_signal, stop_grace_period', () => {
  const s = svc('image: x\nworking_dir: /app\nuser: 1000\nstop_signal: SIGINT\nstop_grace_period: 1m30s');
  assert.deepEqual([s.workingDir, s.user, s.stopSignal, s.stopGracePeriodMs], ['/app', '1000', 'SIGINT', 90_000]);
  assert.equal(svc('image: x\nuser: "1000:1000"').user, '1000:1000');
});

test('develop.watch rules with resolved paths', () => {
  const s = svc('build: .\ndevelop:\n  watch:\n    - action: sync\n      path: ./src\n      target: /app/src\n      ignore: [node_modules/]\n    - action: rebuild\n      path: package.json\n    - action: sync+restart\n      path: ./conf\n      target: /etc/app');
  assert.deepEqual(s.watch, [
    { action: 'sync', path: '/proj/src', target: '/app/src', ignore: ['node_modules/'] },
    { action: 'rebuild', path: '/proj/package.json', ignore: [] },
    { action: 'sync+restart', path: '/proj/conf', target: '/etc/app', ignore: [] },
  ]);
  const err = loadError('services:\n  web:\n    build: .\n    develop:\n      watch:\n        - action: sync\n          path: ./src\n');
  assert.deepEqual(where(err), ['6:11 services.web.develop.watch[0]']);
});

test('unsupported and unknown keys warn with position and never fail', () => {
  const r = load('services:\n  web:\n    image: x\n    cap_add: [NET_ADMIN]\n    isolation: hyperv\n    ulimits: {nofile: 1024}\n    imagee: typo\n    x-anything: ok\n');
  assert.deepEqual(r.warnings.map((w) => `${w.position?.line}:${w.position?.col} ${w.path}`), ['5:5 services.web.isolation', '7:5 services.web.imagee']);
  assert.match(r.warnings[1]?.message ?? '', /did you mean "image"/);
  assert.deepEqual(r.project.services['web']?.options?.capAdd, ['NET_ADMIN']);
});

test('the loader reports how many keys it honoured and which it ignored', () => {
  const { keys } = load('name: p\nservices:\n  web:\n    image: x\n    isolation: hyperv\n    helthcheck: {}\n    build: {context: ., isolation: hyperv}\n    x-other: 1\nmodels: {}\n');
  assert.deepEqual(keys, { honoured: 5, ignored: ['models', 'services.web.isolation', 'services.web.helthcheck', 'services.web.build.isolation'] });
});

test('a service must be a mapping', () => {
  assert.deepEqual(where(loadError('services:\n  web: nginx\n')), ['2:8 services.web']);
  assert.deepEqual(where(loadError('services:\n  web:\n')), ['2:3 services.web']);
});
