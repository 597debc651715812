// The adapter against a scripted HTTP engine (scripted-engine.ts): status mapping, network edge cases and hosts, no
// Docker. Streams (events, logs, builds) are in dockerode-streams.test.ts.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ContainerCreateSpec } from '../api/engine.ts';
import { createDockerEngine } from './dockerode-engine.ts';
import { rejectsCode } from './engine-test-kit.ts';
import { json, ScriptedEngine } from './scripted-engine.ts';

const scripted = new ScriptedEngine();
const route = scripted.route.bind(scripted);
const socketPath = scripted.socketPath;
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
  before(() => scripted.start());
  after(() => scripted.stop());

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
