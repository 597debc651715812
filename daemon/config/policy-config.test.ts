// x-cmesh traffic policy: routes, rate_limit, circuit_breaker, retry (and its `retries` alias), faults, target checks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProjectSpecSchema } from '../api/project-schema.ts';
import { load, loadError, where } from './test-helpers.ts';

const ISSUE_EXAMPLE = `services:
  front:
    image: x
    ports: ["8080:8000"]
    x-cmesh:
      routes:
        - match: { path_prefix: /admin/, headers: { x-canary: "1" } }
          to: { admin-canary: 100 }
        - match: { path_prefix: /admin/, method: [get, HEAD], query: { v: { regex: "^[0-9]+$" }, debug: { present: true } } }
          strip_prefix: /admin/
          request_headers: { set: { X-Env: prod }, remove: [X-Debug] }
          response_headers: { remove: Server }
          timeouts: { request: 2s }
          to: { admin: 90, "admin-canary:9000": 10 }
        - match: { path: /old }
          redirect: { to: "https://example.com/new", status: 301 }
        - match: { path_regex: "^/v1/" }
          rewrite: { path_regex: "^/v1/(.*)", replace: "/api/$1" }
          to: { front: 1 }
        - to: { front: 100 }
      rate_limit: { requests_per_second: 50, burst: 100, key: "header:X-User" }
      circuit_breaker: { max_connections: 512, max_pending: 64, max_requests: 256 }
      retry: { on: [connect-failure, reset, 503], attempts: 3, per_try_timeout: 2s }
      faults: { delay: { percent: 10, duration: 200ms }, abort: { percent: 5, status: 503 } }
  admin: { image: x, expose: [8000] }
  admin-canary: { image: x, expose: [8000, 9000] }
`;

test("the issue's example normalizes to typed policy", () => {
  const { project } = load(ISSUE_EXAMPLE);
  const m = project.services['front']!.mesh;
  assert.equal(m.retries, 3, 'retry.attempts feeds the retries the proxy already honours');
  assert.deepEqual(m.policy, {
    routes: [
      { match: { pathPrefix: '/admin/', headers: { 'x-canary': { exact: '1' } } }, to: [{ service: 'admin-canary', weight: 100 }] },
      {
        match: { pathPrefix: '/admin/', methods: ['GET', 'HEAD'], query: { v: { regex: '^[0-9]+$' }, debug: { present: true } } },
        to: [
          { service: 'admin', weight: 90 },
          { service: 'admin-canary', port: 9000, weight: 10 },
        ],
        stripPrefix: '/admin',
        requestHeaders: { set: { 'x-env': 'prod' }, remove: ['x-debug'] },
        responseHeaders: { set: {}, remove: ['server'] },
        timeouts: { requestMs: 2000 },
      },
      { match: { path: '/old' }, to: [], redirect: { to: 'https://example.com/new', status: 301 } },
      { match: { pathRegex: '^/v1/' }, to: [{ service: 'front', weight: 1 }], rewrite: { pathRegex: '^/v1/(.*)', replace: '/api/$1' } },
      { match: {}, to: [{ service: 'front', weight: 100 }] },
    ],
    rateLimit: { requestsPerSecond: 50, burst: 100, key: 'header:x-user' },
    circuitBreaker: { maxConnections: 512, maxPending: 64, maxRequests: 256 },
    retry: { on: ['connect-failure', 'reset'], statuses: [503], attempts: 3, perTryTimeoutMs: 2000 },
    faults: { delay: { percent: 10, durationMs: 200 }, abort: { percent: 5, status: 503 } },
  });
  // Every key of the issue's example is honoured (max_connections too, mesh/policy/breaker-connections.test.ts).
  assert.deepEqual(load(ISSUE_EXAMPLE).warnings, []);
  // What the CLI sends over the control API passes the daemon's schema.
  assert.equal(ProjectSpecSchema.safeParse(JSON.parse(JSON.stringify(project))).success, true);
});

test('no policy keys: no policy field (existing specs are unchanged)', () => {
  assert.equal(load('services:\n  web: {image: x}\n').project.services['web']?.mesh.policy, undefined);
});

test('defaults: rate_limit, retry and faults apply to every service; burst defaults to a second of requests', () => {
  const p = load(
    'x-cmesh:\n  defaults:\n    rate_limit: {requests_per_second: 2.5}\n    retry: {attempts: 4}\nservices:\n  a: {image: x}\n  b:\n    image: x\n    x-cmesh: {retries: 1, faults: {abort: {percent: 50, status: 500}}}\n',
  ).project;
  assert.deepEqual(p.services['a']?.mesh.policy, {
    rateLimit: { requestsPerSecond: 2.5, burst: 3, key: 'ip' },
    retry: { on: ['connect-failure', 'reset'], statuses: [502, 503], attempts: 4 },
  });
  assert.equal(p.services['a']?.mesh.retries, 4);
  assert.equal(p.services['b']?.mesh.retries, 1, 'the service-level alias beats the defaults');
  assert.equal(p.services['b']?.mesh.policy?.retry?.attempts, 1);
  assert.deepEqual(p.services['b']?.mesh.policy?.faults, { abort: { percent: 50, status: 500 } });
});

test('bad policy values fail with file:line:col', () => {
  const err = loadError(`services:
  web:
    image: x
    ports: ["80:80"]
    x-cmesh:
      retries: 2
      retry: {on: [teapot], attempts: -1}
      rate_limit: {burst: 0}
      circuit_breaker: {max_pending: 0}
      faults: {delay: {percent: 150, duration: 1s}, abort: {percent: 5}}
      routes:
        - match: {path_prefix: admin, path_regex: "([", method: "G T", headers: {x: {present: false}}}
          to: {web: 1}
        - match: {}
        - to: {web: 0}
        - to: {"bad name!": 1}
          redirect: {to: /x, status: 200}
        - to: {web: 1}
          request_headers: {set: {"x-a": "a\\r\\nb"}}
`);
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(err).sort(), [
    '10:33 services.web.x-cmesh.faults.delay.percent',
    '10:60 services.web.x-cmesh.faults.abort',
    '12:32 services.web.x-cmesh.routes[0].match.path_prefix',
    '12:51 services.web.x-cmesh.routes[0].match.path_regex',
    '12:65 services.web.x-cmesh.routes[0].match.method',
    '12:95 services.web.x-cmesh.routes[0].match.headers.x.present',
    '14:11 services.web.x-cmesh.routes[1]',
    '15:15 services.web.x-cmesh.routes[2].to',
    '16:16 services.web.x-cmesh.routes[3].to["bad name!"]',
    '16:11 services.web.x-cmesh.routes[3]',
    '17:38 services.web.x-cmesh.routes[3].redirect.status',
    '19:42 services.web.x-cmesh.routes[4].request_headers.set.x-a',
    '7:20 services.web.x-cmesh.retry.on[0]',
    '7:39 services.web.x-cmesh.retry.attempts',
    '7:7 services.web.x-cmesh.retry',
    '8:19 services.web.x-cmesh.rate_limit',
    '9:38 services.web.x-cmesh.circuit_breaker.max_pending',
  ].sort());
  const messages = err.issues.map((i) => i.message);
  assert.ok(messages.includes('`retry` and `retries` are both set'));
  assert.ok(messages.includes('rate_limit needs requests_per_second'));
  assert.ok(messages.includes('a route has either `to` or `redirect`, not both'));
  assert.ok(messages.includes('every target of this route has weight 0'));
});

test('route targets must be HTTP services of the project with the named port', () => {
  const err = loadError(`services:
  front:
    image: x
    ports: ["80:80"]
    x-cmesh:
      routes:
        - to: {nope: 1, db: 1, worker: 1, api: 1, "api:9999": 1, later: 1}
  db: {image: x, expose: [5432], x-cmesh: {protocol: tcp}}
  worker: {image: x}
  api: {image: x, expose: [3000]}
  later: {image: x, expose: [1], profiles: [extra]}
`);
  assert.deepEqual(
    err.issues.map((i) => `${i.position?.line}:${i.position?.col} ${i.message}`),
    [
      '7:16 route target "nope" is not a service of this project',
      '7:25 route target "db" uses protocol "tcp"',
      '7:32 route target "worker" has no container port to send requests to',
      '7:51 route target "api:9999": api has no container port 9999',
      '7:66 route target "later" is disabled by profiles',
    ],
  );
  assert.match(err.issues[0]?.hint ?? '', /known services: front, db, worker, api/);
});

test('routes belong to a service with protocol http; without a published port they warn', () => {
  const err = loadError('x-cmesh:\n  defaults:\n    routes: []\nservices:\n  web:\n    image: x\n    ports: ["80:80"]\n    x-cmesh: {protocol: tcp, routes: [{to: {web: 1}}]}\n');
  assert.deepEqual(where(err), ['3:5 x-cmesh.defaults.routes', '5:3 services.web.x-cmesh.routes']);
  const r = load('services:\n  web:\n    image: x\n    expose: [80]\n    x-cmesh: {routes: [{to: {web: 1}}]}\n');
  assert.deepEqual(r.warnings.map((w) => w.path), ['services.web.x-cmesh.routes']);
});
