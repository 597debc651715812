import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ContainerCreateSpec, EngineEvent, LogLine } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { containerLabels, Labels, projectLabels } from '../api/labels.ts';
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

async function rejectsCode(p: Promise<unknown>, code: string): Promise<CmeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CmeshError);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('FakeEngine', () => {
  it('creates with deterministic ids and a controllable clock', async () => {
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

    let clock = 1000;
    const c = new FakeEngine({ now: () => clock });
    const { id } = await c.createContainer(spec('p-web-1'));
    clock = 5000;
    await c.startContainer(id);
    assert.equal((await c.inspectContainer(id))?.startedAt, 5000);
  });

  it('mirrors the adapter idempotency: start twice, stop twice, remove twice, stop after remove', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await e.startContainer(id);
    await e.startContainer(id);
    const running = await e.inspectContainer(id);
    assert.equal(running?.state, 'running');
    assert.deepEqual(running?.endpoints, [{ containerPort: 8080, protocol: 'tcp', host: '127.0.0.1', hostPort: 32768 }]);
    await e.stopContainer(id);
    await e.stopContainer(id);
    const stopped = await e.inspectContainer(id);
    assert.equal(stopped?.state, 'exited');
    assert.equal(stopped?.exitCode, 0);
    assert.deepEqual(stopped?.endpoints, []);
    await e.removeContainer(id);
    await e.removeContainer(id);
    await e.stopContainer(id);
    await e.killContainer(id);
    assert.equal(await e.inspectContainer(id), undefined);
    await rejectsCode(e.startContainer(id), 'CMESH_E_ENGINE');
    assert.deepEqual(
      e.calls.map((c) => c.method),
      ['createContainer', 'startContainer', 'startContainer', 'inspectContainer', 'stopContainer', 'stopContainer', 'inspectContainer', 'removeContainer', 'removeContainer', 'stopContainer', 'killContainer', 'inspectContainer', 'startContainer'],
    );
  });

  it('refuses to remove a running container without force, like the engine', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await e.startContainer(id);
    await rejectsCode(e.removeContainer(id), 'CMESH_E_ENGINE');
    await e.removeContainer(id, { force: true });
    assert.equal(e.containerCount, 0);
  });

  it('reports name conflicts with the existing id, and missing images when strict', async () => {
    const e = new FakeEngine({ strictImages: true });
    e.addImage('app:dev');
    const foreign = e.addForeignContainer('p-web-1');
    const err = await rejectsCode(e.createContainer(spec('p-web-1')), 'CMESH_E_NAME_CONFLICT');
    assert.equal(err.details.existingId, foreign);
    const missing = await rejectsCode(e.createContainer(spec('p-web-2', { image: 'nope' })), 'CMESH_E_IMAGE_MISSING');
    assert.match(missing.hint ?? '', /never pulls/);
    assert.equal((await e.inspectImage('app:dev'))?.tags[0], 'app:dev');
    assert.equal(await e.inspectImage('nope'), undefined);
  });

  it('simulates crashes, removal behind our back, health changes, and emits managed events only', async () => {
    const e = new FakeEngine();
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    const done = (async () => {
      for await (const ev of e.events({ signal: ac.signal })) events.push(ev);
    })();
    const { id } = await e.createContainer(spec('p-web-1', { healthcheck: { test: ['CMD', 'true'], disable: false } }));
    e.addForeignContainer('other'); // unmanaged: filtered like the real engine filter
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
    const stream = (async () => {
      for await (const _ of e.events({ signal: ac.signal })) {
        // wait for the failure
      }
    })();
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

  it('injects port conflicts and arbitrary failures', async () => {
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

  it('networks and volumes: create twice adopts, foreign owner conflicts, remove twice, in-use errors', async () => {
    const e = new FakeEngine();
    const labels = projectLabels('p');
    const n1 = await e.createNetwork({ name: 'p_default', labels });
    const n2 = await e.createNetwork({ name: 'p_default', labels });
    assert.deepEqual(n1, n2);
    const conflict = await rejectsCode(e.createNetwork({ name: 'p_default', labels: projectLabels('q') }), 'CMESH_E_NAME_CONFLICT');
    assert.equal(conflict.details.existingId, n1.id);
    await e.createVolume({ name: 'p_data', labels });
    await e.createVolume({ name: 'p_data', labels });
    await rejectsCode(e.createVolume({ name: 'p_data', labels: projectLabels('q') }), 'CMESH_E_NAME_CONFLICT');

    await rejectsCode(e.createContainer(spec('p-x-1', { networks: [{ name: 'nope', aliases: [] }] })), 'CMESH_E_ENGINE');
    const { id } = await e.createContainer(
      spec('p-web-1', { networks: [{ name: 'p_default', aliases: ['web'] }], mounts: [{ type: 'volume', source: 'p_data', target: '/d', readOnly: false }] }),
    );
    await e.startContainer(id);
    const busy = await rejectsCode(e.removeNetwork('p_default'), 'CMESH_E_ENGINE');
    assert.equal(busy.details.reason, 'active-endpoints');
    await rejectsCode(e.removeVolume('p_data'), 'CMESH_E_ENGINE');
    await e.removeContainer(id, { force: true });
    await e.removeNetwork('p_default');
    await e.removeNetwork('p_default');
    await e.removeVolume('p_data');
    await e.removeVolume('p_data');
    assert.deepEqual(await e.listNetworks({ [Labels.project]: 'p' }), []);
    assert.deepEqual(await e.listVolumes({ [Labels.project]: 'p' }), []);
  });

  it('lists by label, with all=false hiding stopped containers', async () => {
    const e = new FakeEngine();
    const a = await e.createContainer(spec('p-web-1'));
    await e.createContainer(spec('p-web-2', { labels: containerLabels('p', 'web', 2, 'h1') }));
    await e.createContainer(spec('q-web-1', { labels: containerLabels('q', 'web', 1, 'h1') }));
    await e.startContainer(a.id);
    assert.equal((await e.listContainers({ labels: { [Labels.project]: 'p' } })).length, 2);
    assert.equal((await e.listContainers({ labels: { [Labels.project]: 'p' }, all: false })).length, 1);
    assert.equal((await e.listContainers({ labels: { [Labels.managed]: true } })).length, 3);
  });

  it('follows logs until the container stops, honours tail and abort', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await e.startContainer(id);
    e.emitLog(id, 'one');
    e.emitLog(id, 'two', 'stderr');
    const lines: LogLine[] = [];
    const follow = (async () => {
      for await (const l of e.containerLogs(id, { follow: true })) lines.push(l);
    })();
    await new Promise((r) => setImmediate(r));
    e.emitLog(id, 'three');
    await new Promise((r) => setImmediate(r));
    e.simulateExit(id, 0);
    await follow;
    assert.deepEqual(
      lines.map((l) => `${l.stream}:${l.text}`),
      ['stdout:one', 'stderr:two', 'stdout:three'],
    );
    const tail = [];
    for await (const l of e.containerLogs(id, { follow: false, tail: 1 })) tail.push(l.text);
    assert.deepEqual(tail, ['three']);

    await e.startContainer(id);
    const ac = new AbortController();
    const aborted = (async () => {
      for await (const _ of e.containerLogs(id, { follow: true, signal: ac.signal, tail: 0 })) {
        // nothing
      }
    })();
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await aborted;
    assert.equal(e.container(id)?.changed.waiting, 0);
  });

  it('exec, putArchive and builds', async () => {
    const e = new FakeEngine();
    const { id } = await e.createContainer(spec('p-web-1'));
    await rejectsCode(e.exec(id, ['true']), 'CMESH_E_ENGINE');
    await e.startContainer(id);
    e.setExecHandler((_c, cmd) => ({ exitCode: cmd[0] === 'false' ? 1 : 0, output: cmd.join(' ') }));
    assert.deepEqual(await e.exec(id, ['echo', 'hi']), { exitCode: 0, output: 'echo hi' });
    await e.putArchive(id, '/app', Readable.from([Buffer.alloc(1024)]));
    assert.deepEqual(e.archives, [{ id, path: '/app', bytes: 1024 }]);

    const progress = [];
    for await (const p of e.buildImage({ context: Readable.from([]), dockerfile: 'Dockerfile', tags: ['app:dev'] })) progress.push(p);
    assert.equal(progress.at(-1)?.kind, 'done');
    e.setBuildScript({ fail: 'The command returned a non-zero code: 1', output: ['boom'] });
    const err = await rejectsCode(
      (async () => {
        for await (const _ of e.buildImage({ context: Readable.from([]), dockerfile: 'Dockerfile', tags: ['app:dev'] })) {
          // consume
        }
      })(),
      'CMESH_E_BUILD_FAILED',
    );
    assert.deepEqual(err.details.output, ['boom']);
  });
});
