// Engine contract, containers: the lifecycle state machine, its idempotent statuses and its typed errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Labels } from '../api/labels.ts';
import type { ContractContext } from './engine-contract-types.ts';
import { rejectsCode, waitFor } from './engine-test-kit.ts';

export function containerCases(c: ContractContext): void {
  describe('containers', () => {
    it('creates, inspects and lists by labels', async () => {
      const { engine, project } = c.h;
      const s = c.spec('list');
      const { id } = await engine.createContainer(s);
      const info = await engine.inspectContainer(id);
      assert.equal(info?.id, id);
      assert.equal(info.name, s.name);
      assert.equal(info.state, 'created');
      assert.equal(info.image, s.image);
      for (const [k, v] of Object.entries(s.labels)) assert.equal(info.labels[k], v, k);
      assert.deepEqual(info.endpoints, []);
      assert.equal(typeof info.createdAt, 'number');
      assert.equal(await engine.inspectContainer(`${project}-nope`), undefined);

      const mine = { [Labels.project]: project, [Labels.service]: 'list' };
      assert.deepEqual((await engine.listContainers({ labels: mine })).map((x) => x.id), [id]);
      assert.deepEqual((await engine.listContainers({ labels: { ...mine, [Labels.replica]: true } })).map((x) => x.id), [id]);
      assert.deepEqual(await engine.listContainers({ labels: { ...mine, [Labels.project]: `${project}-other` } }), []);
      assert.deepEqual(await engine.listContainers({ labels: { ...mine, 'dev.cmesh.absent': true } }), []);
      assert.deepEqual(await engine.listContainers({ labels: mine, all: false }), [], 'all=false hides what is not running');
      await engine.removeContainer(id);
    });

    it('starts idempotently (304) and publishes an engine-assigned loopback port', async () => {
      const { engine, project } = c.h;
      const { id } = await engine.createContainer(c.spec('web', { ports: [{ containerPort: 8080, protocol: 'tcp' }] }));
      await engine.startContainer(id);
      await engine.startContainer(id);
      const info = await engine.inspectContainer(id);
      assert.equal(info?.state, 'running');
      assert.equal(typeof info.startedAt, 'number');
      assert.equal(info.exitCode, undefined);
      assert.equal(info.endpoints.length, 1);
      const [ep] = info.endpoints;
      assert.equal(ep?.containerPort, 8080);
      assert.equal(ep.protocol, 'tcp');
      assert.equal(ep.host, '127.0.0.1');
      assert.ok(ep.hostPort > 0);
      const listed = await engine.listContainers({ labels: { [Labels.project]: project, [Labels.service]: 'web' }, all: false });
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.state, 'running');
      assert.deepEqual(listed[0]?.endpoints, info.endpoints);
      await engine.removeContainer(id, { force: true });
    });

    it('lists how long a run has lasted, at least (the list has no StartedAt): whole seconds, only while it runs', async () => {
      const { engine, project } = c.h;
      const { id } = await engine.createContainer(c.spec('upfor'));
      const mine = { labels: { [Labels.project]: project, [Labels.service]: 'upfor' } };
      assert.equal((await engine.listContainers(mine))[0]?.upForMs, undefined, 'created: no run');
      const before = Date.now();
      await engine.startContainer(id);
      await new Promise((r) => setTimeout(r, 1300));
      const [listed] = await engine.listContainers(mine);
      const elapsed = Date.now() - before;
      assert.equal(listed?.state, 'running');
      assert.ok(listed.upForMs !== undefined && listed.upForMs >= 1000 && listed.upForMs <= elapsed, `upForMs ${listed.upForMs}, ${elapsed} ms since start`);
      assert.equal(listed.upForMs % 1000, 0);
      await engine.removeContainer(id, { force: true });
    });

    it('reports a taken name as CMESH_E_NAME_CONFLICT with the existing id, and a missing image without pulling', async () => {
      const { engine, project } = c.h;
      const s = c.spec('dup');
      const { id } = await engine.createContainer(s);
      const conflict = await rejectsCode(engine.createContainer(s), 'CMESH_E_NAME_CONFLICT');
      assert.equal(conflict.details.existingId, id);
      const missing = await rejectsCode(
        engine.createContainer(c.spec('noimg', { image: `${project}-missing:latest` })),
        'CMESH_E_IMAGE_MISSING',
      );
      assert.match(missing.hint ?? '', /never pulls/);
      // The engine resolves networks at start: a missing one (first, attached at create, or later, connected before
      // start) is accepted by create and fails the start.
      const net = await engine.createNetwork({ name: `${project}_one`, labels: { ...c.labels(), [Labels.project]: `${project}-nonet` } });
      for (const networks of [[`${project}_nope`], [net.name, `${project}_nope`]]) {
        const spec = c.spec('nonet', { networks: networks.map((name) => ({ name, aliases: [] })) });
        const nonet = await engine.createContainer(spec);
        await rejectsCode(engine.startContainer(nonet.id), 'CMESH_E_ENGINE');
        assert.equal((await engine.inspectContainer(nonet.id))?.state, 'created');
        await engine.removeContainer(nonet.id);
      }
      await engine.removeNetwork(net.name);
      await rejectsCode(
        engine.createContainer(c.spec('badmount', { mounts: [{ type: 'bind', source: `/tmp/${project}-nope`, target: '/d', readOnly: true }] })),
        'CMESH_E_VOLUME_PATH',
      );
      await engine.removeContainer(id);
    });

    it('pauses and unpauses idempotently; refuses to remove a running container without force', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('pause'));
      await rejectsCode(engine.pauseContainer(id), 'CMESH_E_ENGINE');
      await engine.startContainer(id);
      await engine.pauseContainer(id);
      await engine.pauseContainer(id);
      assert.equal((await engine.inspectContainer(id))?.state, 'paused');
      assert.equal((await engine.listContainers({ labels: { [Labels.project]: c.h.project, [Labels.service]: 'pause' }, all: false })).length, 1);
      await engine.unpauseContainer(id);
      await engine.unpauseContainer(id);
      assert.equal((await engine.inspectContainer(id))?.state, 'running');
      await rejectsCode(engine.removeContainer(id), 'CMESH_E_ENGINE');
      assert.equal((await engine.inspectContainer(id))?.state, 'running');
      await engine.removeContainer(id, { force: true });
      assert.equal(await engine.inspectContainer(id), undefined);
    });

    it('lists a running container’s processes (top); a stopped one is CMESH_E_ENGINE', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('top'));
      await rejectsCode(engine.topContainer(id), 'CMESH_E_ENGINE');
      await engine.startContainer(id);
      const top = await engine.topContainer(id);
      for (const title of ['PID', 'CMD']) assert.ok(top.titles.includes(title), `titles ${top.titles.join(',')} lack ${title}`);
      const cmd = top.titles.indexOf('CMD');
      assert.ok(top.processes.some((p) => p[cmd]?.includes('sleep 300')), JSON.stringify(top.processes));
      await engine.removeContainer(id, { force: true });
    });

    it('renames; a taken name is CMESH_E_NAME_CONFLICT, a gone container CMESH_E_ENGINE', async () => {
      const { engine, project } = c.h;
      const a = await engine.createContainer(c.spec('ren-a'));
      const b = await engine.createContainer(c.spec('ren-b'));
      await engine.renameContainer(a.id, `${project}-ren-a-next`);
      assert.equal((await engine.inspectContainer(a.id))?.name, `${project}-ren-a-next`);
      assert.equal((await engine.inspectContainer(`${project}-ren-a-next`))?.id, a.id);
      const taken = await rejectsCode(engine.renameContainer(a.id, `${project}-ren-b`), 'CMESH_E_NAME_CONFLICT');
      assert.equal(taken.details.existingId, b.id);
      await engine.removeContainer(a.id);
      await engine.removeContainer(b.id);
      await rejectsCode(engine.renameContainer(a.id, `${project}-ren-c`), 'CMESH_E_ENGINE');
    });

    it('stops and removes idempotently (304/404 are success); a gone container inspects as undefined', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('stop'));
      await engine.stopContainer(id); // never started: 304
      await engine.startContainer(id);
      await engine.stopContainer(id, 2);
      await engine.stopContainer(id, 2);
      const stopped = await engine.inspectContainer(id);
      assert.equal(stopped?.state, 'exited');
      assert.equal(typeof stopped.exitCode, 'number');
      assert.equal(typeof stopped.finishedAt, 'number');
      assert.deepEqual(stopped.endpoints, []);
      await engine.removeContainer(id);
      await engine.removeContainer(id);
      await engine.stopContainer(id);
      await engine.killContainer(id);
      assert.equal(await engine.inspectContainer(id), undefined);
      await rejectsCode(engine.startContainer(id), 'CMESH_E_ENGINE');
      await rejectsCode(engine.pauseContainer(id), 'CMESH_E_ENGINE');
    });

    it('kills with a signal (SIGKILL exits 137); killing a stopped container is success', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('kill'));
      await engine.startContainer(id);
      await engine.killContainer(id, 'SIGKILL');
      const dead = await waitFor('the kill to land', async () => {
        const info = await engine.inspectContainer(id);
        return info?.state === 'exited' ? info : undefined;
      });
      assert.equal(dead.exitCode, 137);
      await engine.killContainer(id);
      await engine.removeContainer(id);
    });

    it('records an app that exits on its own with its exit code', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('crash', { command: c.sh('echo bye; exit 7') }));
      await engine.startContainer(id);
      const exited = await waitFor('the app to exit', async () => {
        const info = await engine.inspectContainer(id);
        return info?.state === 'exited' ? info : undefined;
      });
      assert.equal(exited.exitCode, 7);
      assert.equal(typeof exited.finishedAt, 'number');
      await engine.startContainer(id); // a stopped container starts again
      await waitFor('the second exit', async () => ((await engine.inspectContainer(id))?.state === 'exited' ? true : undefined));
      await engine.removeContainer(id);
    });

    it('autoRemove (`run --rm -d`): the engine removes the container once it exits; without it the container stays', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('autorm', { command: c.sh('echo bye; exit 3'), autoRemove: true }));
      const { id: kept } = await engine.createContainer(c.spec('kept', { command: c.sh('exit 3') }));
      await engine.startContainer(id);
      await engine.startContainer(kept);
      await waitFor('the exited container to be removed', async () => ((await engine.inspectContainer(id)) === undefined ? true : undefined));
      await waitFor('the other to exit', async () => ((await engine.inspectContainer(kept))?.state === 'exited' ? true : undefined));
      await engine.removeContainer(kept);
    });
  });
}
