// The traffic-policy schemas are zod/mini (the gateway's worker bundle carries no zod classic), nested in the control
// API's classic request schemas: a bad policy in an `up` or `fault` body is refused with the same path, text and code
// as when they were classic. The expected issues were recorded from the classic schemas (zod 4.6, session 18).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load } from '../config/test-helpers.ts';
import { parseBody } from './validate.ts';
import { FaultRequestSchema, UpRequestSchema } from '../api/control-schema.ts';
import { CmeshError, type ConfigIssue } from '../api/errors.ts';
import { FaultSchema, TrafficPolicySchema } from '../api/traffic-policy-schema.ts';

const COMPOSE = `
services:
  web:
    image: x
    expose: [8000]
    x-cmesh:
      routes:
        - match: { path_prefix: /api, headers: { x-a: "1" } }
          request_headers: { set: { X-B: "2" } }
          to: { web: 1 }
      rate_limit: { requests_per_second: 5 }
      faults: { delay: { percent: 10, duration: 1s } }
`;

/** The issues of refusing `body` through the route gate, and the error's code. */
function refused(schema: Parameters<typeof parseBody>[0], body: unknown, what: string): { code: string; issues: ConfigIssue[] } {
  try {
    parseBody(schema, body, what);
  } catch (err) {
    assert.ok(err instanceof CmeshError, String(err));
    return { code: err.code, issues: err.issues };
  }
  assert.fail('expected the body to be refused');
}

type Json = Record<string, unknown>;

/** An `up` body whose web service's policy (the loader's) has `value` at `at` (a dotted path in it), unless at is ''. */
function upWith(at: string, value?: unknown): unknown {
  const project = JSON.parse(JSON.stringify(load(COMPOSE).project)) as { services: Record<string, { mesh: { policy: Json } }> };
  const policy = project.services['web']!.mesh.policy;
  assert.ok(policy['routes'], 'the fixture has routes (a YAML typo would test less)');
  if (at !== '') {
    const keys = at.split('.');
    let node = policy;
    for (const k of keys.slice(0, -1)) node = node[k] as Json;
    node[keys.at(-1)!] = value;
  }
  return { project };
}

const AT = 'project.services.web.mesh.policy';

test('a valid policy and fault pass the classic request schemas unchanged', () => {
  const body = upWith('');
  assert.deepEqual(parseBody(UpRequestSchema, body, 'up'), { ...(body as object), services: [], build: 'auto', wait: false });
  const fault = { service: 'web', faults: { abort: { percent: 50, status: 503 } } };
  assert.deepEqual(parseBody(FaultRequestSchema, fault, 'fault'), fault);
});

test('bad policies in an up body: same paths, texts and code as the classic schemas gave', () => {
  const cases: [string, unknown, ConfigIssue[]][] = [
    ['rateLimit.requestsPerSecond', -1, [{ path: `${AT}.rateLimit.requestsPerSecond`, message: 'Too small: expected number to be >0' }]],
    ['rateLimit.burst', 1.5, [{ path: `${AT}.rateLimit.burst`, message: 'expected int, received number' }]],
    ['faults.delay.percent', 101, [{ path: `${AT}.faults.delay.percent`, message: 'Too big: expected number to be <=100' }]],
    ['faults.delay.durationMs', '1s', [{ path: `${AT}.faults.delay.durationMs`, message: 'expected number, received string' }]],
    ['routes.0.match.pathRegex', '(', [{ path: `${AT}.routes[0].match.pathRegex`, message: 'invalid regex' }]],
    ['routes.0.match.pathPrefix', 'api', [{ path: `${AT}.routes[0].match.pathPrefix`, message: 'Invalid string: must start with "/"' }]],
    ['routes.0.match.methods', ['get'], [{ path: `${AT}.routes[0].match.methods[0]`, message: 'Invalid string: must match pattern /^[A-Z]+$/' }]],
    ['routes.0.match.headers.x-a', { exact: '1', regex: 'a' }, [{ path: `${AT}.routes[0].match.headers.x-a`, message: 'Invalid input' }]],
    ['routes.0.requestHeaders.set.x-b', 'a\r\nb', [{ path: `${AT}.routes[0].requestHeaders.set.x-b`, message: 'CR, LF or NUL not allowed' }]],
    ['routes.0.requestHeaders.set.X B', 'a', [{ path: `${AT}.routes[0].requestHeaders.set["X B"]`, message: 'Invalid key in record' }]],
    ['routes.0.redirect', { to: '/x', status: 305 }, [{ path: `${AT}.routes[0].redirect.status`, message: 'not a redirect status' }]],
    ['routes.0.redirect', { to: '/x', status: 301.5 }, [{ path: `${AT}.routes[0].redirect.status`, message: 'expected int, received number' }]],
    ['retry', { on: [], statuses: [], attempts: 2.5 }, [{ path: `${AT}.retry.attempts`, message: 'expected int, received number' }]],
    ['routes.0.to.0.port', 0, [{ path: `${AT}.routes[0].to[0].port`, message: 'Too small: expected number to be >=1' }]],
    ['retry', { on: ['never'], statuses: [600], attempts: 1 }, [
      { path: `${AT}.retry.on[0]`, message: 'Invalid option: expected one of "connect-failure"|"reset"|"timeout"' },
      { path: `${AT}.retry.statuses[0]`, message: 'Too big: expected number to be <=599' },
    ]],
    ['circuitBreaker', { maxConnections: 0, bogus: 1 }, [
      { path: `${AT}.circuitBreaker.maxConnections`, message: 'Too small: expected number to be >=1' },
      { path: `${AT}.circuitBreaker.bogus`, message: 'unknown field' },
    ]],
    ['routes', 'all', [{ path: `${AT}.routes`, message: 'expected array, received string' }]],
  ];
  for (const [at, value, issues] of cases) {
    const got = refused(UpRequestSchema, upWith(at, value), 'up');
    assert.equal(got.code, 'CMESH_E_DAEMON_PROTOCOL');
    assert.deepEqual(got.issues, issues, JSON.stringify(issues[0]));
  }
});

test('bad faults in a fault body: same paths, texts and code as the classic schemas gave', () => {
  const got = refused(FaultRequestSchema, { service: 'web', faults: { abort: { percent: -1, status: 100 }, slow: {} } }, 'fault');
  assert.equal(got.code, 'CMESH_E_DAEMON_PROTOCOL');
  assert.deepEqual(got.issues, [
    { path: 'faults.abort.percent', message: 'Too small: expected number to be >=0' },
    { path: 'faults.abort.status', message: 'Too small: expected number to be >=200' },
    { path: 'faults.slow', message: 'unknown field' },
  ]);
});

test('the schemas parse on their own too, as the gateway worker uses them (its own messages need no locale)', () => {
  assert.deepEqual(FaultSchema.parse({ delay: { percent: 1, durationMs: 5 } }), { delay: { percent: 1, durationMs: 5 } });
  const bad = TrafficPolicySchema.safeParse({ routes: [{ match: { pathRegex: '(' }, to: [] }] });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error?.issues.map((i) => [i.path.join('.'), i.message]), [['routes.0.match.pathRegex', 'invalid regex']]);
});
