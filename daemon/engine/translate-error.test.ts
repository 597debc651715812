import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import {
  type ErrorContext,
  engineFailure,
  isBenign,
  portOf,
  RULES,
  translateEngineError,
} from './translate-error.ts';

/** dockerode's error shape for an HTTP failure. */
function http(status: number, message: string, reason = 'server error'): Error {
  return Object.assign(new Error(`(HTTP code ${status}) ${reason} - ${message} `), {
    statusCode: status,
    reason,
    json: { message },
  });
}

function sys(code: string, message = `connect ${code} /var/run/docker.sock`): Error {
  return Object.assign(new Error(message), { code, errno: -2, syscall: 'connect' });
}

const ID = 'a'.repeat(64);

interface Row {
  name: string;
  err: unknown;
  ctx: ErrorContext;
  code: string;
  message?: RegExp;
  hint?: RegExp;
  details?: Record<string, unknown>;
}

const TABLE: Row[] = [
  {
    name: 'socket missing',
    err: sys('ENOENT'),
    ctx: { op: 'ping', host: 'unix:///tmp/nope.sock' },
    code: 'CMESH_E_ENGINE_UNAVAILABLE',
    message: /not reachable at unix:\/\/\/tmp\/nope\.sock \(ENOENT\)/,
    hint: /^start it with `bash scripts\/ensure-docker\.sh`$/,
  },
  {
    name: 'connection refused with DOCKER_HOST',
    err: sys('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:2375'),
    ctx: { op: 'list', host: 'tcp://127.0.0.1:2375', dockerHost: 'tcp://127.0.0.1:2375' },
    code: 'CMESH_E_ENGINE_UNAVAILABLE',
    hint: /ensure-docker\.sh.*DOCKER_HOST is set to tcp:\/\/127\.0\.0\.1:2375/,
  },
  {
    name: 'permission denied on the socket',
    err: sys('EACCES'),
    ctx: { op: 'ping' },
    code: 'CMESH_E_ENGINE_UNAVAILABLE',
    hint: /permission denied/,
  },
  {
    name: 'container name conflict (id looked up)',
    err: http(409, `Conflict. The container name "/p-web-1" is already in use by container "${'b'.repeat(64)}". You have to remove (or rename) that container to be able to reuse that name.`, 'conflict'),
    ctx: { op: 'create', subject: 'p-web-1', image: 'x', existingId: ID },
    code: 'CMESH_E_NAME_CONFLICT',
    message: /"p-web-1" is already in use by aaaaaaaaaaaa/,
    details: { existingId: ID, name: 'p-web-1' },
  },
  {
    name: 'container name conflict (id from the message)',
    err: http(409, `Conflict. The container name "/p-web-1" is already in use by container "${'b'.repeat(64)}".`, 'conflict'),
    ctx: { op: 'create', subject: 'p-web-1' },
    code: 'CMESH_E_NAME_CONFLICT',
    details: { existingId: 'b'.repeat(64) },
  },
  {
    name: 'network name conflict',
    err: http(409, 'network with name p_default already exists', 'conflict'),
    ctx: { op: 'network-create', subject: 'p_default', existingId: ID },
    code: 'CMESH_E_NAME_CONFLICT',
    message: /^network name "p_default"/,
  },
  {
    name: 'missing image',
    err: http(404, 'No such image: app:dev', 'no such container'),
    ctx: { op: 'create', subject: 'p-app-1', image: 'app:dev' },
    code: 'CMESH_E_IMAGE_MISSING',
    message: /"app:dev" is not present locally/,
    hint: /^add a `build:` section or build the image; cmesh never pulls$/,
  },
  {
    name: 'port already allocated',
    err: http(500, 'driver failed programming external connectivity on endpoint p-web-1 (abc): Bind for 127.0.0.1:8080 failed: port is already allocated'),
    ctx: { op: 'start', subject: 'p-web-1' },
    code: 'CMESH_E_PORT_TAKEN',
    message: /port 8080/,
    details: { port: 8080 },
  },
  {
    name: 'address already in use',
    err: http(500, 'driver failed programming external connectivity on endpoint x: Error starting userland proxy: listen tcp4 127.0.0.1:9090: bind: address already in use'),
    ctx: { op: 'start' },
    code: 'CMESH_E_PORT_TAKEN',
    details: { port: 9090 },
  },
  {
    name: 'bind source missing',
    err: http(400, 'invalid mount config for type "bind": bind source path does not exist: /nope', 'bad parameter'),
    ctx: { op: 'create', subject: 'p-db-1' },
    code: 'CMESH_E_VOLUME_PATH',
    hint: /absolute paths that exist/,
  },
  {
    name: 'relative bind source',
    err: http(400, `invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`, 'bad parameter'),
    ctx: { op: 'create' },
    code: 'CMESH_E_VOLUME_PATH',
  },
  {
    name: 'network with active endpoints',
    err: http(403, 'error while removing network: network p_default id abc has active endpoints', 'operation not supported'),
    ctx: { op: 'network-remove', subject: 'p_default' },
    code: 'CMESH_E_ENGINE',
    message: /still has containers attached/,
    details: { reason: 'active-endpoints', status: 403 },
  },
  {
    name: 'volume in use',
    err: http(409, 'remove p_data: volume is in use - [abc]', 'conflict'),
    ctx: { op: 'volume-remove', subject: 'p_data' },
    code: 'CMESH_E_ENGINE',
    details: { reason: 'in-use' },
  },
  {
    name: 'dockerfile rejected before the stream starts',
    err: Object.assign(new Error('(HTTP code 400) unexpected - dockerfile parse error line 2: unknown instruction: BOGUS '), {
      statusCode: 400,
      json: null,
    }),
    ctx: { op: 'build' },
    code: 'CMESH_E_BUILD_FAILED',
    message: /^build failed: dockerfile parse error line 2/,
  },
  {
    name: 'anything else keeps the engine message and status',
    err: http(500, 'something odd happened'),
    ctx: { op: 'exec', subject: 'c1' },
    code: 'CMESH_E_ENGINE',
    message: /^Docker engine error during exec of c1: something odd happened \(HTTP 500\)$/,
    details: { status: 500, engineMessage: 'something odd happened' },
  },
  {
    name: 'a non-Error value',
    err: 'weird',
    ctx: { op: 'list' },
    code: 'CMESH_E_ENGINE',
    message: /weird/,
  },
];

describe('translateEngineError', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      const e = translateEngineError(row.err, row.ctx);
      assert.ok(e instanceof CmeshError);
      assert.equal(e.code, row.code, e.message);
      if (row.message) assert.match(e.message, row.message);
      if (row.hint) assert.match(e.hint ?? '', row.hint);
      for (const [k, v] of Object.entries(row.details ?? {})) assert.deepEqual(e.details[k], v, k);
      if (row.err instanceof Error) assert.equal(e.cause, row.err);
    });
  }

  it('passes CmeshErrors through untouched', () => {
    const original = new CmeshError('CMESH_E_BUILD_FAILED', 'x');
    assert.equal(translateEngineError(original, { op: 'build' }), original);
  });

  it('ends with a catch-all rule', () => {
    assert.equal(RULES.at(-1)?.name, 'engine');
  });
});

describe('isBenign (status codes that mean "already done")', () => {
  const rows: [Parameters<typeof isBenign>[0], number, string, boolean][] = [
    ['start', 304, 'container already started', true],
    ['start', 404, 'No such container', false],
    ['start', 409, 'x', false],
    ['stop', 304, '', true],
    ['stop', 404, 'No such container', true],
    ['remove', 404, 'No such container', true],
    ['remove', 409, 'removal of container abc is already in progress', true],
    ['remove', 409, 'You cannot remove a running container', false],
    ['kill', 409, 'Container abc is not running', true],
    ['kill', 500, 'Cannot kill container: abc: Container abc is not running', true],
    ['pause', 500, 'Container abc is already paused', true],
    ['unpause', 500, 'Container abc is not paused', true],
    ['unpause', 500, 'something else', false],
    ['network-remove', 404, 'network x not found', true],
    ['volume-remove', 404, 'get x: no such volume', true],
    ['image-remove', 404, 'No such image', true],
    ['create', 409, 'Conflict', false],
    ['inspect', 404, 'No such container', false],
  ];
  for (const [op, status, message, expected] of rows) {
    it(`${op} ${status} ${message || '(no message)'} → ${expected}`, () => {
      assert.equal(isBenign(op, { status, message }), expected);
    });
  }

  it('never treats a socket failure as benign', () => {
    assert.equal(isBenign('stop', engineFailure(sys('ECONNREFUSED'))), false);
  });
});

describe('engineFailure', () => {
  it('strips dockerode\'s prefix when there is no JSON body (streams)', () => {
    const f = engineFailure(Object.assign(new Error('(HTTP code 404) no such container - No such container: abc '), { statusCode: 404, json: null }));
    assert.deepEqual(f, { status: 404, message: 'No such container: abc' });
  });

  it('keeps the errno code of socket errors', () => {
    assert.deepEqual(engineFailure(sys('ENOENT', 'connect ENOENT /x')), { sysCode: 'ENOENT', message: 'connect ENOENT /x' });
  });
});

describe('portOf', () => {
  it('finds the host port in engine messages', () => {
    assert.equal(portOf('Bind for 0.0.0.0:80 failed: port is already allocated'), 80);
    assert.equal(portOf('listen tcp4 127.0.0.1:9090: bind: address already in use'), 9090);
    assert.equal(portOf('listen tcp6 [::1]:8443: bind: address already in use'), 8443);
    assert.equal(portOf('port is already allocated'), undefined);
  });
});
