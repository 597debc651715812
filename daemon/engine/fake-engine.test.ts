// The fake's own test controls (clock, call log, fault injection, simulated apps); what it shares with Docker is in
// the engine contract (fake-engine.contract.test.ts).

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ContainerCreateSpec, EngineEvent, LogLine } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { containerLabels } from '../api/labels.ts';
import { collect, rejectsCode, tarOf } from './engine-test-kit.ts';
import { FakeEngine } from './fake-engine.ts';

function spec(name: string, over: Partial<ContainerCreateSpec> = {}): ContainerCreateSpec {
  return {
    name,
    image: 'app:dev',
    env: {},
    labels: containerLabels('p', 'web', 1, 'h1'),
    ports: [{ containerPort: 8080, protocol: 'tcp' }],
    mounts: [],
    networks: [],
    init: true,
    ...over,
  };
}

describe('FakeEngine', () => {
  it('creates with deterministic ids, engine-assigned ports and a controllable clock', async () => {
    const a = new FakeEngine();
    const b = new FakeEngine();
    const x = await a.createContainer(spec('p-web-1'));
    const y = await b.createContainer(spec('p-web-1'));
    assert.equal(x.id, y.id);
    assert.equal(x.id.length, 64);
    const t0 = a.now();
    a.advance(1500);
    await a.startContainer(x.id);
    const info = await a.inspectContainer(x.id);
    assert.equal(info?.createdAt, t0);
    assert.equal(info?.startedAt, t0 + 1500);
    assert.deepEqual(info?.endpoints, [{ containerPort: 8080, protocol: 'tcp', host: '127.0.0.1', hostPort: 32768 }]);
    await a.stopContainer(x.id);
    await a.startContainer(x.id);
    assert.equal((await a.inspectContainer(x.id))?.endpoints[0]?.hostPort, 32769, 'a new port on every start');

    let clock = 1000;
    const c = new FakeEngine({ now: () => clock });
    const { id } = await c.createContainer(spec('p-web-1'));
    clock = 5000;
    await c.startContainer(id);
    assert.equal((await c.inspectContainer(id))?.startedAt, 5000);
  });

  it('logs every call in order, failed ones too', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await e.startContainer(id);
    await e.startContainer(id);
    await e.removeContainer(id, { force: true });
    await e.stopContainer(id);
    await rejectsCode(e.startContainer(id), 'CMESH_E_ENGINE');
    assert.deepEqual(
      e.calls.map((c) => c.method),
      ['createContainer', 'startContainer', 'startContainer', 'removeContainer', 'stopContainer', 'startContainer'],
    );
    assert.equal(e.callsOf('startContainer').length, 3);
    e.clearCalls();
    assert.deepEqual(e.calls, []);
  });

  it('a foreign container holds a name; non-strict images always exist, strict ones only when added', async () => {
    const loose = new FakeEngine();
    assert.equal((await loose.inspectImage('anything'))?.tags[0], 'anything:latest');
    const e = new FakeEngine({ strictImages: true });
    e.addImage('app:dev');
    const foreign = e.addForeignContainer('p-web-1', { running: true });
    assert.equal((await e.inspectContainer(foreign))?.state, 'running');
    const err = await rejectsCode(e.createContainer(spec('p-web-1')), 'CMESH_E_NAME_CONFLICT');
    assert.equal(err.details.existingId, foreign);
    assert.equal((await e.inspectImage('app:dev'))?.tags[0], 'app:dev');
    assert.equal(await e.inspectImage('nope'), undefined);
  });

  it('simulates crashes, removal behind our back and health changes, as managed events', async () => {
    const e = new FakeEngine();
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    const done = collect(e.events({ signal: ac.signal }), events);
    const { id } = await e.createContainer(spec('p-web-1', { healthcheck: { test: ['CMD', 'true'], disable: false } }));
    e.addForeignContainer('other', { running: true }); // unmanaged: filtered like the real engine's filter
    await e.startContainer(id);
    assert.equal((await e.inspectContainer(id))?.health, 'starting');
    e.setHealth(id, 'healthy');
    e.simulateUnhealthy(id);
    e.simulateExit(id, 3);
    const exited = await e.inspectContainer(id);
    assert.equal(exited?.state, 'exited');
    assert.equal(exited?.exitCode, 3);
    e.simulateRemoval(id);
    assert.equal(await e.inspectContainer(id), undefined);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await done;
    assert.deepEqual(
      events.map((ev) => ev.action),
      ['create', 'start', 'health_status: healthy', 'health_status: unhealthy', 'die', 'destroy'],
    );
    assert.equal(events.find((ev) => ev.action === 'die')?.attributes?.exitCode, '3');
    assert.equal(e.subscriberCount, 0);
  });

  it('engine down: calls fail with CMESH_E_ENGINE_UNAVAILABLE and event streams end with it', async () => {
    const e = new FakeEngine();
    const ac = new AbortController();
    const stream = collect(e.events({ signal: ac.signal }));
    await new Promise((r) => setImmediate(r));
    e.setEngineDown(true);
    await rejectsCode(stream, 'CMESH_E_ENGINE_UNAVAILABLE');
    const err = await rejectsCode(e.ping(), 'CMESH_E_ENGINE_UNAVAILABLE');
    assert.match(err.hint ?? '', /ensure-docker/);
    await rejectsCode(e.listContainers({ labels: {} }), 'CMESH_E_ENGINE_UNAVAILABLE');
    e.setEngineDown(false);
    await e.ping();
    ac.abort();
  });

  it('injects port conflicts (the real engine retries its own port picks) and arbitrary failures', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    e.simulatePortConflict(8080);
    const err = await rejectsCode(e.startContainer(id), 'CMESH_E_PORT_TAKEN');
    assert.equal(err.details.port, 8080);
    assert.equal((await e.inspectContainer(id))?.state, 'created');
    await e.startContainer(id);
    e.failNext('stopContainer', new CmeshError('CMESH_E_ENGINE', 'boom'), 2);
    await rejectsCode(e.stopContainer(id), 'CMESH_E_ENGINE');
    await rejectsCode(e.stopContainer(id), 'CMESH_E_ENGINE');
    await e.stopContainer(id);
  });

  it('emitLog feeds follows; an aborted follow leaves no waiter behind', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await e.startContainer(id);
    e.emitLog(id, 'one');
    const lines: LogLine[] = [];
    const follow = collect(e.containerLogs(id, { follow: true }), lines);
    await new Promise((r) => setImmediate(r));
    e.emitLog(id, 'two', 'stderr');
    await new Promise((r) => setImmediate(r));
    e.simulateExit(id, 0);
    await follow;
    assert.deepEqual(lines.map((l) => `${l.stream}:${l.text}`), ['stdout:one', 'stderr:two']);

    await e.startContainer(id);
    const ac = new AbortController();
    const aborted = collect(e.containerLogs(id, { follow: true, signal: ac.signal, tail: 0 }));
    await new Promise((r) => setImmediate(r));
    assert.equal(e.container(id)?.changed.waiting, 1);
    ac.abort();
    await aborted;
    assert.equal(e.container(id)?.changed.waiting, 0);
  });

  it('exec handlers, recorded archives, and scripted builds', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await e.startContainer(id);
    assert.deepEqual(await e.exec(id, ['anything']), { exitCode: 0, output: '' });
    e.setExecHandler((_c, cmd) => ({ exitCode: cmd[0] === 'false' ? 1 : 0, output: cmd.join(' ') }));
    assert.deepEqual(await e.exec(id, ['echo', 'hi']), { exitCode: 0, output: 'echo hi' });
    await e.putArchive(id, '/app', Readable.from([Buffer.alloc(1024)]));
    assert.deepEqual(e.archives, [{ id, path: '/app', bytes: 1024 }]);

    const build = () => collect(e.buildImage({ context: Readable.from([]), dockerfile: 'Dockerfile', tags: ['app:dev'] }));
    assert.equal((await build()).at(-1)?.kind, 'done');
    e.setBuildScript({ fail: 'The command returned a non-zero code: 1', output: ['boom'] });
    const err = await rejectsCode(build(), 'CMESH_E_BUILD_FAILED');
    assert.deepEqual(err.details.output, ['boom']);
  });

  it('runDockerfiles: a FROM image that is not present fails like the engine would (it never pulls)', async () => {
    const e = new FakeEngine({ strictImages: true, runDockerfiles: true });
    const context = tarOf({ Dockerfile: 'FROM base:missing\nRUN echo never\n' });
    const err = await rejectsCode(collect(e.buildImage({ context, dockerfile: 'Dockerfile', tags: ['app:dev'] })), 'CMESH_E_BUILD_FAILED');
    assert.equal(err.details.step, 1);
    assert.match(err.hint ?? '', /never pulls/);
    assert.equal(await e.inspectImage('app:dev'), undefined);
  });
});

describe('FakeEngine: how replicas are reached', () => {
  const ports: ContainerCreateSpec['ports'] = [{ containerPort: 80, protocol: 'tcp' }, { containerPort: 9000, protocol: 'tcp', hostPort: 19000 }];

  it('publishes on loopback by default, a reach network or not (pure-logic tests dial what they are told)', async () => {
    const engine = new FakeEngine();
    const { id } = await engine.createContainer(spec('web', { ports, reachNetwork: 'p_default' }));
    await engine.startContainer(id);
    const info = (await engine.inspectContainer(id))!;
    assert.ok(info.endpoints.every((e) => e.host === '127.0.0.1' && e.direct === undefined));
    assert.equal(info.labels['dev.cmesh.reach-network'], undefined);
  });

  it('direct: an address of its own for ports without a fixed host port, a new one at each start', async () => {
    const engine = new FakeEngine({ reach: 'direct' });
    const { id } = await engine.createContainer(spec('web', { ports, reachNetwork: 'p_default' }));
    await engine.startContainer(id);
    const first = (await engine.inspectContainer(id))!;
    const [own, fixed] = first.endpoints;
    assert.deepEqual(own, { containerPort: 80, protocol: 'tcp', host: own!.host, hostPort: 80, direct: true });
    assert.equal(fixed?.host, '127.0.0.1');
    assert.equal(fixed.direct, undefined);
    assert.equal(first.labels['dev.cmesh.reach-ports'], '80/tcp');
    await engine.stopContainer(id);
    await engine.startContainer(id);
    assert.notEqual((await engine.inspectContainer(id))!.endpoints[0]!.host, own!.host);
  });
});
