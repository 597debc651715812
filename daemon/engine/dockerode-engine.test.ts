// The adapter against a scripted HTTP "engine" on a unix socket: status mapping, stream parsing and teardown, no Docker.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BuildProgress, ContainerCreateSpec, EngineEvent, LogLine } from '../api/engine.ts';
import { createDockerEngine } from './dockerode-engine.ts';
import { collect as drain, rejectsCode } from './engine-test-kit.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

const socketPath = `/tmp/cmesh-fake-engine-${randomBytes(4).toString('hex')}.sock`;
const routes = new Map<string, Handler>();
const seen: { method: string; url: URL }[] = [];
let server: Server;

function route(method: string, path: string, handler: Handler): void {
  routes.set(`${method} ${path}`, handler);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function frame(type: 1 | 2, text: string): Buffer {
  const data = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

const engine = createDockerEngine({ host: `unix://${socketPath}` });
const spec: ContainerCreateSpec = {
  name: 'p-web-1',
  image: 'app:dev',
  env: {},
  labels: {},
  ports: [],
  mounts: [],
  networks: [],
  init: false,
};

describe('dockerode adapter against a scripted engine', () => {
  before(async () => {
    server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      seen.push({ method: req.method ?? '', url });
      const handler = routes.get(`${req.method} ${url.pathname}`);
      if (!handler) return json(res, 500, { message: `unscripted ${req.method} ${url.pathname}` });
      await handler(req, res, url);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(socketPath, { force: true });
  });

  it('pings through an explicit unix host and through DOCKER_HOST (tcp)', async () => {
    route('GET', '/version', (_q, res) => json(res, 200, { Version: '20.10.24', ApiVersion: '1.41', Os: 'linux' }));
    assert.deepEqual(await engine.ping(), { version: '20.10.24', apiVersion: '1.41', os: 'linux', host: `unix://${socketPath}` });

    const tcp = createServer((_q, res) => json(res, 200, { Version: 'tcp', ApiVersion: '1.41', Os: 'linux' }));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    try {
      const info = await createDockerEngine().ping();
      assert.equal(info.version, 'tcp');
      assert.equal(info.host, `tcp://127.0.0.1:${port}`);
      process.env.DOCKER_HOST = 'unix:///tmp/cmesh-nope.sock';
      const err = await rejectsCode(createDockerEngine().ping(), 'CMESH_E_ENGINE_UNAVAILABLE');
      assert.match(err.hint ?? '', /DOCKER_HOST is set to unix:\/\/\/tmp\/cmesh-nope\.sock/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
      tcp.closeAllConnections();
      await new Promise((r) => tcp.close(r));
    }
  });

  it('maps 304/404 to success and 409/404-image on create to typed errors', async () => {
    route('POST', '/containers/c1/start', (_q, res) => {
      res.writeHead(304);
      res.end();
    });
    route('POST', '/containers/c1/stop', (_q, res) => json(res, 404, { message: 'No such container: c1' }));
    route('DELETE', '/containers/c1', (_q, res) => json(res, 404, { message: 'No such container: c1' }));
    route('POST', '/containers/c1/kill', (_q, res) => json(res, 409, { message: 'Container c1 is not running' }));
    route('GET', '/containers/c1/json', (_q, res) => json(res, 404, { message: 'No such container: c1' }));
    await engine.startContainer('c1');
    await engine.stopContainer('c1');
    await engine.removeContainer('c1', { force: true });
    await engine.killContainer('c1');
    assert.equal(await engine.inspectContainer('c1'), undefined);

    const existing = 'e'.repeat(64);
    route('POST', '/containers/create', (_q, res) =>
      json(res, 409, { message: `Conflict. The container name "/p-web-1" is already in use by container "${existing}".` }),
    );
    route('GET', '/containers/p-web-1/json', (_q, res) =>
      json(res, 200, { Id: existing, Name: '/p-web-1', State: {}, Config: {}, NetworkSettings: {} }),
    );
    const conflict = await rejectsCode(engine.createContainer(spec), 'CMESH_E_NAME_CONFLICT');
    assert.equal(conflict.details.existingId, existing);

    route('POST', '/containers/create', (_q, res) => json(res, 404, { message: 'No such image: app:dev' }));
    const missing = await rejectsCode(engine.createContainer(spec), 'CMESH_E_IMAGE_MISSING');
    assert.equal(missing.hint, 'add a `build:` section or build the image; cmesh never pulls');

    route('POST', '/containers/c1/start', (_q, res) =>
      json(res, 500, { message: 'driver failed programming external connectivity on endpoint p-web-1: Bind for 127.0.0.1:18080 failed: port is already allocated' }),
    );
    const port = await rejectsCode(engine.startContainer('c1'), 'CMESH_E_PORT_TAKEN');
    assert.equal(port.details.port, 18080);
  });

  it('removes a half-wired container when connecting a second network fails', async () => {
    route('POST', '/containers/create', (_q, res) => json(res, 201, { Id: 'c2', Warnings: [] }));
    route('POST', '/networks/p_back/connect', (_q, res) => json(res, 404, { message: 'network p_back not found' }));
    let removed = false;
    route('DELETE', '/containers/c2', (_q, res) => {
      removed = true;
      res.writeHead(204);
      res.end();
    });
    const err = await rejectsCode(
      engine.createContainer({ ...spec, networks: [{ name: 'p_front', aliases: [] }, { name: 'p_back', aliases: ['x'] }] }),
      'CMESH_E_ENGINE',
    );
    assert.match(err.message, /p_back/);
    assert.ok(removed);
  });

  it('parses split event JSON, drops exec noise, and reports a dropped stream as CMESH_E_ENGINE_UNAVAILABLE', async () => {
    const ev = (action: string, id: string) =>
      JSON.stringify({
        Type: 'container',
        Action: action,
        Actor: { ID: id, Attributes: { 'dev.cmesh.managed': 'true', name: 'p-web-1', exitCode: '0' } },
        time: 1_700_000_000,
        timeNano: 0,
        // The engine sends nanoseconds beyond double precision; keep the raw digits.
      }).replace('"timeNano":0', '"timeNano":1700000000123456789');
    route('GET', '/events', async (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = `${ev('start', 'a')}\n${ev('exec_start: sh -c true', 'a')}\n${ev('die', 'a')}${ev('destroy', 'a')}\n`;
      for (let i = 0; i < text.length; i += 17) {
        res.write(text.slice(i, i + 17));
        await sleep(1);
      }
      res.destroy(); // connection loss, not a clean end
    });
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    const err = await rejectsCode(drain(engine.events({ signal: ac.signal, since: 1_700_000_000_500 }), events), 'CMESH_E_ENGINE_UNAVAILABLE');
    assert.match(err.hint ?? '', /ensure-docker/);
    assert.deepEqual(
      events.map((e) => e.action),
      ['start', 'die', 'destroy'],
    );
    assert.deepEqual(events[0], {
      type: 'container',
      action: 'start',
      id: 'a',
      labels: { 'dev.cmesh.managed': 'true' },
      attributes: { 'dev.cmesh.managed': 'true', name: 'p-web-1', exitCode: '0' },
      time: 1_700_000_000_123,
    });
    const url = seen.filter((s) => s.url.pathname === '/events').at(-1)!.url;
    assert.deepEqual(JSON.parse(url.searchParams.get('filters') ?? '{}'), {
      label: ['dev.cmesh.managed=true'],
      type: ['container', 'network', 'volume'],
    });
    assert.equal(url.searchParams.get('since'), '1700000000.500000000');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  it('ends the event stream quietly on abort and closes the connection', async () => {
    let serverSawClose = false;
    route('GET', '/events', (_q, res) => {
      res.on('close', () => {
        serverSawClose = true;
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ Type: 'network', Action: 'create', Actor: { ID: 'n1', Attributes: {} }, time: 1 }));
      // …and never end: only the client's abort can finish this.
    });
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    setTimeout(() => ac.abort(), 50);
    await drain(engine.events({ signal: ac.signal }), events);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.time, 1000);
    await sleep(20);
    assert.ok(serverSawClose, 'the abort closed the connection');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  it('demultiplexes non-TTY logs split at arbitrary points, and passes TTY logs raw', async () => {
    route('GET', '/containers/c3/json', (_q, res) => json(res, 200, { Id: 'c3', Config: { Tty: false } }));
    route('GET', '/containers/c3/logs', async (_q, res) => {
      res.writeHead(200);
      const bytes = Buffer.concat([
        frame(1, '2024-01-01T00:00:00.001000000Z hello\n2024-01-01T00:00:00.002000000Z wor'),
        frame(1, 'ld\n'),
        frame(2, '2024-01-01T00:00:00.003000000Z oops\n'),
      ]);
      for (let i = 0; i < bytes.length; i += 5) {
        res.write(bytes.subarray(i, i + 5));
        await sleep(1);
      }
      res.end();
    });
    const lines = await drain(engine.containerLogs('c3', { follow: true, tail: 10 }));
    assert.deepEqual(lines, [
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 1), text: 'hello' },
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 2), text: 'world' },
      { stream: 'stderr', time: Date.UTC(2024, 0, 1, 0, 0, 0, 3), text: 'oops' },
    ] satisfies LogLine[]);
    const q = seen.filter((s) => s.url.pathname === '/containers/c3/logs').at(-1)!.url.searchParams;
    assert.equal(q.get('timestamps'), 'true');
    assert.equal(q.get('tail'), '10');

    route('GET', '/containers/c4/json', (_q, res) => json(res, 200, { Id: 'c4', Config: { Tty: true } }));
    route('GET', '/containers/c4/logs', (_q, res) => {
      res.writeHead(200);
      res.end('2024-01-01T00:00:00.004000000Z \u0001tty line\r\n');
    });
    assert.deepEqual(await drain(engine.containerLogs('c4', { follow: false })), [
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 4), text: '\u0001tty line' },
    ]);

    route('GET', '/containers/gone/json', (_q, res) => json(res, 404, { message: 'No such container: gone' }));
    assert.deepEqual(await drain(engine.containerLogs('gone', { follow: true })), []);
  });

  it('replays recorded build NDJSON: failure on HTTP 200 names the step; success yields done', async () => {
    const sample = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
    let body = sample('build-failing-run.ndjson');
    let query: URLSearchParams | undefined;
    route('POST', '/build', async (req, res, url) => {
      query = url.searchParams;
      for await (const _ of req) {
        // consume the context
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < body.length; i += 33) res.write(body.subarray(i, i + 33));
      res.end();
    });
    const progress: BuildProgress[] = [];
    const build = () =>
      drain(
        engine.buildImage({
          context: Readable.from([Buffer.alloc(1024)]),
          dockerfile: 'docker/Dockerfile',
          tags: ['app:dev', 'app:latest'],
          args: { A: '1' },
          target: 'prod',
          labels: { 'dev.cmesh.test': 'true' },
          noCache: true,
        }),
        progress,
      );
    const err = await rejectsCode(build(), 'CMESH_E_BUILD_FAILED');
    assert.equal(err.details.step, 3);
    assert.deepEqual(err.details.output, ['about to fail', 'oops']);
    assert.equal(progress.at(-1)?.kind, 'error');
    assert.deepEqual(query?.getAll('t'), ['app:dev', 'app:latest']);
    assert.equal(query?.get('dockerfile'), 'docker/Dockerfile');
    assert.deepEqual(JSON.parse(query?.get('buildargs') ?? ''), { A: '1' });
    assert.equal(query?.get('target'), 'prod');
    assert.equal(query?.get('nocache'), 'true');
    assert.equal(query?.get('rm'), 'true');
    assert.equal(query?.get('forcerm'), 'true');

    body = sample('build-good.ndjson');
    progress.length = 0;
    await build();
    assert.deepEqual(progress.at(-1), {
      kind: 'done',
      imageId: 'sha256:0a4e63321b98cf65985b8768d07e30e70b5c970fa943614d2ec64fc9646f8b97',
    });

    body = Buffer.from('{"stream":"Step 1/1 : FROM scratch"}\n');
    await rejectsCode(build(), 'CMESH_E_BUILD_FAILED');
  });

  it('adopts an existing network of the same project and refuses a foreign one', async () => {
    route('POST', '/networks/create', (_q, res) => json(res, 409, { message: 'network with name p_default already exists' }));
    route('GET', '/networks/p_default', (_q, res) =>
      json(res, 200, { Id: 'n1', Name: 'p_default', Labels: { 'dev.cmesh.project': 'p' } }),
    );
    const net = await engine.createNetwork({ name: 'p_default', labels: { 'dev.cmesh.project': 'p' } });
    assert.deepEqual(net, { id: 'n1', name: 'p_default', labels: { 'dev.cmesh.project': 'p' } });
    const err = await rejectsCode(
      engine.createNetwork({ name: 'p_default', labels: { 'dev.cmesh.project': 'q' } }),
      'CMESH_E_NAME_CONFLICT',
    );
    assert.equal(err.details.existingId, 'n1');
    route('DELETE', '/networks/p_default', (_q, res) =>
      json(res, 403, { message: 'error while removing network: network p_default id n1 has active endpoints' }),
    );
    const busy = await rejectsCode(engine.removeNetwork('p_default'), 'CMESH_E_ENGINE');
    assert.equal(busy.details.reason, 'active-endpoints');
  });

  it('removes a network whose endpoints outlived their containers, never one a live container uses', async () => {
    let deletes = 0;
    const disconnected: unknown[] = [];
    route('DELETE', '/networks/q_default', (_q, res) => {
      deletes++;
      if (disconnected.length === 0) json(res, 403, { message: 'error while removing network: network q_default id n2 has active endpoints' });
      else json(res, 204, {});
    });
    route('GET', '/networks/q_default', (_q, res) =>
      json(res, 200, { Id: 'n2', Name: 'q_default', Labels: {}, Containers: { gone1: { Name: 'q-web-1' } } }),
    );
    route('GET', '/containers/gone1/json', (_q, res) => json(res, 404, { message: 'No such container: gone1' }));
    route('POST', '/networks/q_default/disconnect', async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      disconnected.push(JSON.parse(body));
      json(res, 200, {});
    });
    await engine.removeNetwork('q_default');
    assert.deepEqual(disconnected, [{ Container: 'q-web-1', Force: true }]);
    assert.equal(deletes, 2);

    // An endpoint whose container still exists is not ours to cut: the error stands, nothing is disconnected.
    disconnected.length = 0;
    route('GET', '/networks/q_default', (_q, res) =>
      json(res, 200, { Id: 'n2', Name: 'q_default', Labels: {}, Containers: { live1: { Name: 'someone-else' } } }),
    );
    route('GET', '/containers/live1/json', (_q, res) => json(res, 200, { Id: 'live1', Name: '/someone-else', State: {}, Config: { Labels: {} } }));
    const busy = await rejectsCode(engine.removeNetwork('q_default'), 'CMESH_E_ENGINE');
    assert.equal(busy.details.reason, 'active-endpoints');
    assert.deepEqual(disconnected, []);
  });
});
