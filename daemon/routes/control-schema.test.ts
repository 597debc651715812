// The request schemas accept exactly what the CLI sends (every project the config loader produces survives them
// unchanged) and refuse the rest with errors that name the field.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { loadProjectFromSources } from '../config/load.ts';
import { fixture } from '../config/test-helpers.ts';
import { parseBody } from './validate.ts';
import type { UpRequest } from '../api/control.ts';
import { DownRequestSchema, ScaleRequestSchema, ServicesRequestSchema, UpRequestSchema } from '../api/control-schema.ts';
import { CmeshError } from '../api/errors.ts';
import type { ProjectSpec } from '../api/project.ts';

// Every key the loader knows, so the schema is checked against each field of the model at least once.
const KITCHEN_SINK = `
name: sink
x-extra: { nested: { list: [1, "two", { three: null }] } }
x-cmesh:
  defaults: { retries: 2, timeouts: { connect: 1s, request: 5s, idle: 1m } }
services:
  web:
    image: example/web:1
    build: { context: ., dockerfile: web.Dockerfile, args: { A: "1" }, target: run, labels: { l: v }, no_cache: true }
    command: ["serve", "--port", "80"]
    entrypoint: /bin/entry
    environment: { A: "1", B: "" }
    ports: ["127.0.0.1:8080:80", { target: 443, published: 8443, protocol: tcp, name: https, app_protocol: https }, "53/udp"]
    expose: [9000]
    deploy: { replicas: 3 }
    healthcheck: { test: ["CMD", "true"], interval: 2s, timeout: 1s, retries: 3, start_period: 5s, start_interval: 1s }
    depends_on: { db: { condition: service_healthy, restart: true, required: false } }
    restart: on-failure:4
    labels: { team: web }
    volumes: ["./src:/src:ro", "data:/data", { type: tmpfs, target: /tmp }]
    networks: { front: { aliases: [www] }, back: {} }
    working_dir: /app
    user: "1000:1000"
    stop_signal: SIGINT
    stop_grace_period: 3s
    profiles: [full]
    develop:
      watch:
        - { action: sync, path: ./src, target: /src, ignore: [node_modules] }
        - { action: rebuild, path: ./package.json }
    x-cmesh:
      lb: ring-hash
      hash_key: "header:x-user"
      protocol: http
      weights: [3, 1]
      weight: 2
      health: { path: /healthz, port: 80, interval: 1s, timeout: 500ms, rise: 2, fall: 3 }
      bind: 127.0.0.1
      access_log: true
      rollout: { max_surge: 2 }
  db:
    image: example/db:1
    pull_policy: every_12h
    platform: linux/amd64
    healthcheck: { disable: true }
    networks: [back]
    container_name: the-db
    hostname: db
    cap_add: [NET_ADMIN]
    ulimits: { nofile: { soft: 10, hard: 20 } }
    tmpfs: ["/run:size=1m"]
    extra_hosts: ["gw:host-gateway"]
    logging: { driver: local, options: { max-size: 1m } }
    mem_limit: 64m
    cpus: 0.5
    blkio_config: { weight: 300, device_read_bps: [{ path: /dev/sda, rate: 1m }] }
    gpus: all
    secrets: [pw, { source: pw, target: copy, uid: "1", gid: "2", mode: 0400 }]
    configs: [conf]
secrets:
  pw: { file: ./pw.txt }
configs:
  conf: { content: "a=1" }
networks:
  front: { driver: bridge, labels: { a: b } }
  back: { internal: true }
  outside: { external: true, name: shared-net }
volumes:
  data: { driver: local, labels: { keep: "yes" } }
  old: { external: true }
`;

function loaded(): ProjectSpec[] {
  const files = readdirSync(new URL('../../fixtures/configs/real-world/', import.meta.url)).filter((f) => f.endsWith('.yaml'));
  const sources = [
    ...files.map((f) => fixture(`real-world/${f}`)),
    fixture('../demo/compose.yaml'),
    { file: '/proj/compose.yaml', text: KITCHEN_SINK },
  ];
  return sources.map((s) => loadProjectFromSources([s], { env: { BUILD_SHA: 'abc' }, profiles: ['full'] }).project);
}

const failure = (fn: () => unknown): CmeshError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CmeshError, String(err));
    return err;
  }
  assert.fail('expected the body to be refused');
};

test('every project the loader produces passes as it is sent (JSON), nothing dropped or changed', () => {
  const projects = loaded();
  assert.ok(projects.length >= 7);
  const sink = projects.at(-1)!;
  // The kitchen sink really covers the optional parts (a typo in the YAML would silently test less).
  assert.ok(sink.services['web']?.build && sink.services['web'].healthcheck && sink.services['web'].mesh.rollout && sink.services['web'].position);
  assert.equal(sink.services['web'].watch.length, 2);
  for (const project of projects) {
    const sent: unknown = JSON.parse(JSON.stringify({ project, services: ['web'], build: 'never', wait: true, timeoutMs: 5000, scale: { web: 2 } }));
    assert.deepEqual(parseBody(UpRequestSchema, sent, 'up'), sent, project.name);
  }
});

test('fields older clients leave out get the defaults the routes always applied', () => {
  const project = loaded()[0]!;
  const sent = JSON.parse(JSON.stringify({ project })) as unknown;
  assert.deepEqual(parseBody(UpRequestSchema, sent, 'up'), { project, services: [], build: 'auto', wait: false } satisfies UpRequest);
  assert.deepEqual(parseBody(DownRequestSchema, {}, 'down'), { volumes: false, removeOrphans: false });
  assert.deepEqual(parseBody(ServicesRequestSchema, {}, 'stop'), { services: [] });
});

test('errors name the field, in the CLI-facing form, with the protocol code', () => {
  const project = loaded()[0]!;
  const web = Object.keys(project.services)[0]!;
  // The body as sent, with `patch` merged into the project (or into its first service).
  const up = (patch: Record<string, unknown>, into: 'project' | 'service' = 'service'): CmeshError => {
    const body = JSON.parse(JSON.stringify({ project })) as { project: ProjectSpec };
    Object.assign(into === 'project' ? body.project : body.project.services[web]!, patch);
    return failure(() => parseBody(UpRequestSchema, body, 'up'));
  };

  const replicas = up({ replicas: '3' });
  assert.equal(replicas.code, 'CMESH_E_DAEMON_PROTOCOL');
  assert.equal(replicas.exitCode, 2);
  assert.match(replicas.message, new RegExp(`^invalid up request: project\\.services\\.${web}\\.replicas: expected number, received string$`));
  assert.deepEqual(replicas.issues.map((i) => i.path), [`project.services.${web}.replicas`]);

  assert.match(up({ ports: [{ target: 'x', protocol: 'tcp' }] }).message, new RegExp(`services\\.${web}\\.ports\\[0\\]\\.target: expected number`));
  assert.match(up({ restart: 'sometimes' }).message, /\.restart: Invalid option: expected one of "no"\|"always"/);
  assert.match(up({ environment: { 'A.B': 1 } }).message, new RegExp(`services\\.${web}\\.environment\\["A\\.B"\\]: expected string`));
  assert.match(up({ bogus: 1 }).message, new RegExp(`services\\.${web}\\.bogus: unknown field`));
  assert.match(up({ name: 'other' }).message, new RegExp(`services\\.${web}\\.name: expected "${web}" \\(its key\\)`));
  assert.match(up({ services: undefined }, 'project').message, /project\.services: expected record, received undefined/);
  const many = up({ files: 1, profiles: 2 }, 'project');
  assert.match(many.message, /project\.files: expected array, received number \(and 1 more\)$/);
  assert.equal(many.issues.length, 2);

  assert.match(failure(() => parseBody(UpRequestSchema, [], 'up')).message, /^invalid up request: body: expected object, received array$/);
  assert.match(failure(() => parseBody(ScaleRequestSchema, { services: { web: 1.5 } }, 'scale')).message, /services\.web: expected int/);
  assert.match(failure(() => parseBody(ScaleRequestSchema, { services: { web: 1001 } }, 'scale')).message, /services\.web: Too big/);
});

test('prototype keys anywhere, deep nesting and oversized bodies are refused before zod sees them', () => {
  const proto = JSON.parse('{"services": {"__proto__": {"polluted": true}}}') as unknown;
  assert.match(failure(() => parseBody(ScaleRequestSchema, proto, 'scale')).message, /^invalid scale request: services\.__proto__: key not allowed$/);
  const ctor = { project: { extensions: { 'x-a': [{ deep: { constructor: 1 } }] } } };
  assert.match(failure(() => parseBody(UpRequestSchema, ctor, 'up')).message, /project\.extensions\.x-a\[0\]\.deep\.constructor: key not allowed/);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);

  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.match(failure(() => parseBody(DownRequestSchema, { volumes: deep }, 'down')).message, /volumes(\[0\])+: nested deeper than 100 levels/);
  const wide = { services: Array.from({ length: 300_000 }, () => 'web') };
  assert.match(failure(() => parseBody(ServicesRequestSchema, wide, 'stop')).message, /body: more than 200000 values/);
  // Just under the cap: zod reports the first few of a great many issues, not all of them.
  const bad = failure(() => parseBody(ServicesRequestSchema, { services: Array.from({ length: 100_000 }, () => 1) }, 'stop'));
  assert.match(bad.message, /services\[0\]: expected string, received number \(and 99999 more\)/);
  assert.equal(bad.issues.length, 20);
});
