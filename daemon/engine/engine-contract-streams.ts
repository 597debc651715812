// Engine contract, streams: logs (follow ends on exit, stop and abort; tail; since), exec exit codes, putArchive, and
// events filtered to cmesh-managed containers and network links.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import type { EngineEvent, LogLine } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { ContractContext } from './engine-contract-types.ts';
import { collect, rejectsCode, tarOf, waitFor } from './engine-test-kit.ts';

const texts = (lines: LogLine[], stream: LogLine['stream']) => lines.filter((l) => l.stream === stream).map((l) => l.text);

export function streamCases(c: ContractContext): void {
  describe('logs, exec and events', () => {
    it('follows logs until the app exits, demultiplexed; tail and since filter', async () => {
      const { engine } = c.h;
      const script = 'echo line 1; echo err 1 >&2; echo line 2; echo err 2 >&2; echo line 3';
      const { id } = await engine.createContainer(c.spec('echo', { command: c.sh(script) }));
      await engine.startContainer(id);
      const followed = await collect(engine.containerLogs(id, { follow: true }));
      assert.deepEqual(texts(followed, 'stdout'), ['line 1', 'line 2', 'line 3']);
      assert.deepEqual(texts(followed, 'stderr'), ['err 1', 'err 2']);

      const all = await collect(engine.containerLogs(id, { follow: false }));
      assert.deepEqual(all.map((l) => l.text).sort(), ['err 1', 'err 2', 'line 1', 'line 2', 'line 3']);
      const tail = await collect(engine.containerLogs(id, { follow: false, tail: 2 }));
      assert.deepEqual(tail.map((l) => l.text), all.slice(-2).map((l) => l.text));
      assert.deepEqual(await collect(engine.containerLogs(id, { follow: false, tail: 0 })), []);
      const first = all[0]!.time;
      const last = all.at(-1)!.time;
      assert.equal((await collect(engine.containerLogs(id, { follow: false, since: first }))).length, 5);
      assert.deepEqual(await collect(engine.containerLogs(id, { follow: false, since: last + 1 })), []);
      assert.ok(Math.abs(first - c.h.now()) < 60_000, 'times come from the engine clock');
      assert.deepEqual(await collect(engine.containerLogs(`${c.h.project}-gone`, { follow: true })), [], 'gone: no lines');
      await engine.removeContainer(id);
    });

    it('ends a follow when the container stops, and on abort without leaving listeners', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('quiet'));
      await engine.startContainer(id);
      const follow = collect(engine.containerLogs(id, { follow: true }));
      await new Promise((r) => setTimeout(r, 100));
      await engine.stopContainer(id, 2);
      assert.deepEqual(await follow, []);

      await engine.startContainer(id);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      const started = Date.now();
      assert.deepEqual(await collect(engine.containerLogs(id, { follow: true, signal: ac.signal })), []);
      assert.ok(Date.now() - started < 5000);
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
      assert.deepEqual(await collect(engine.containerLogs(id, { follow: true, signal: ac.signal })), [], 'aborted before');
      await engine.removeContainer(id, { force: true });
    });

    it('runs exec with its exit code and output; refuses a stopped container', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('exec'));
      await rejectsCode(engine.exec(id, c.sh('echo hi')), 'CMESH_E_ENGINE');
      await engine.startContainer(id);
      assert.deepEqual(await engine.exec(id, c.sh('echo hi')), { exitCode: 0, output: 'hi\n' });
      assert.deepEqual(await engine.exec(id, c.sh('echo to-stderr >&2; exit 3')), { exitCode: 3, output: 'to-stderr\n' });
      await engine.putArchive(id, '/tmp', tarOf({ 'hello.txt': 'hello\n' }));
      // Options (lifecycle hooks): user, working directory and extra environment apply to this command only.
      assert.deepEqual(await engine.exec(id, c.sh('whoami; pwd; echo $HOOK_VAR'), { user: 'nobody', workingDir: '/tmp', env: { HOOK_VAR: 'set' } }), {
        exitCode: 0,
        output: 'nobody\n/tmp\nset\n',
      });
      assert.deepEqual(await engine.exec(id, c.sh('whoami; echo $HOOK_VAR'), {}), { exitCode: 0, output: 'root\n\n' });
      // `privileged` is passed through but not asserted: a rootless or nested engine refuses the capabilities (exit 126).
      await engine.removeContainer(id, { force: true });
      await rejectsCode(engine.exec(id, c.sh('true')), 'CMESH_E_ENGINE');
      await rejectsCode(engine.putArchive(id, '/tmp', tarOf({ 'x.txt': 'x' })), 'CMESH_E_ENGINE');
    });

    it('bounds an exec by its timeout and tracks the process it could not kill', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('exec-timeout'));
      await engine.startContainer(id);
      try {
        assert.deepEqual(await engine.exec(id, c.sh('echo quick'), { timeoutMs: 5000 }), { exitCode: 0, output: 'quick\n' });
        const started = Date.now();
        const slow = await engine.exec(id, c.sh('sleep 2'), { timeoutMs: 300 });
        const waited = Date.now() - started;
        assert.equal(slow.timedOut, true);
        assert.equal(slow.exitCode, -1);
        assert.ok(waited >= 250 && waited < 1500, `answered after ${waited} ms`);
        assert.equal(await slow.stillRunning?.(), true, 'the engine cannot kill it: still running');
        const deadline = Date.now() + 10_000;
        while ((await slow.stillRunning?.()) === true && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await slow.stillRunning?.(), false, 'gone once its sleep ended');
        assert.ok(Date.now() - started >= 1800, 'ran its full 2 s');

        const ac = new AbortController();
        setTimeout(() => ac.abort(), 200);
        const aborted = await engine.exec(id, c.sh('sleep 1'), { signal: ac.signal });
        assert.equal(aborted.timedOut, true);
        assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
      } finally {
        await engine.removeContainer(id, { force: true });
      }
    });

    it("streams events of managed containers, and any container's network links, and ends quietly on abort", async () => {
      const { engine, project } = c.h;
      const ac = new AbortController();
      const events: EngineEvent[] = [];
      const done = collect(engine.events({ signal: ac.signal, since: c.h.now() - 1000 }), events);
      try {
        // Unmanaged objects (no dev.cmesh.managed) are never reported; networks and volumes are not either (the
        // engine carries no labels on their events), so only containers wake the loop. A container's network connect
        // and disconnect come through whoever it belongs to (unlabelled too): the daemon reacts to those of replicas.
        // (Under a project of their own, so a failure here leaves nothing in the other cases' listings.)
        const side = { ...c.labels(), [Labels.project]: `${project}-events` };
        await engine.createNetwork({ name: `${project}_evnet`, labels: side });
        await engine.createVolume({ name: `${project}_evvol`, labels: side });
        const foreign = await engine.createContainer({ ...c.spec('foreign', { command: c.sh('exit 0') }), labels: { ...c.h.labels } });
        await engine.startContainer(foreign.id);
        const { id } = await engine.createContainer(c.spec('events', { command: c.sh('exit 4') }));
        await engine.startContainer(id);
        const die = await waitFor('the die event', async () => events.find((e) => e.id === id && e.action === 'die'));
        assert.equal(die.type, 'container');
        assert.equal(die.labels[Labels.project], project);
        assert.equal(die.labels[Labels.service], 'events');
        assert.equal(die.attributes?.exitCode, '4');
        assert.ok(Math.abs(die.time - c.h.now()) < 60_000);
        const mine = events.filter((e) => e.id === id).map((e) => e.action);
        assert.deepEqual(mine.slice(0, 2), ['create', 'start']);

        const linked = await engine.createContainer(c.spec('linked'));
        await engine.startContainer(linked.id);
        await engine.connectNetwork(linked.id, `${project}_evnet`, []);
        await engine.disconnectNetwork(linked.id, `${project}_evnet`);
        const links = (): EngineEvent[] => events.filter((e) => e.type === 'network' && e.attributes?.container === linked.id && e.attributes?.name === `${project}_evnet`);
        await waitFor('the disconnect event', async () => links().find((e) => e.action === 'disconnect'));
        // Docker 20.10 reports a disconnect by hand twice; the daemon's reaction to it is idempotent.
        const actions = links().map((e) => e.action);
        assert.equal(actions[0], 'connect', JSON.stringify(actions));
        assert.ok(actions.length >= 2 && actions.slice(1).every((a) => a === 'disconnect'), JSON.stringify(actions));
        await engine.removeContainer(linked.id, { force: true });

        assert.deepEqual(events.filter((e) => e.id === foreign.id), []);
        const notLinks = events.filter((e) => !(e.type === 'network' && (e.action === 'connect' || e.action === 'disconnect')));
        assert.deepEqual(notLinks.filter((e) => e.type !== 'container'), []);
        assert.ok(notLinks.every((e) => e.labels[Labels.managed] === 'true'));
        assert.ok(events.every((e) => e.type !== 'network' || (e.attributes?.container && e.attributes?.name)), 'a link names its container and network');
        await engine.removeContainer(id);
        await engine.removeContainer(foreign.id);
        await engine.removeNetwork(`${project}_evnet`);
        await engine.removeVolume(`${project}_evvol`);
      } finally {
        ac.abort(); // even after a failed assertion: an open event stream would keep the process alive
      }
      await done;
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    });
  });
}
