// The SwarmEngine contract: the port's documented semantics (daemon/api/swarm-engine.ts) as one suite, run against the
// fake (fake-swarm.contract.test.ts) and against dockerode on a real single-node swarm (test/e2e/swarm.docker.test.ts).

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import type { SwarmEngine, SwarmEvent, SwarmEventKind, SwarmServiceSpec, SwarmTaskInfo } from '../api/swarm-engine.ts';

export interface SwarmHarness {
  swarm: SwarmEngine;
  /** `sha256:…` of a local image whose `sleep` runs. */
  imageId: string;
  /** Unique per run: names and the project label derive from it. */
  project: string;
  /** Extra labels on everything (the test-run labels the reaper knows). */
  labels: Record<string, string>;
  /** How long tasks may take to reach a state (seconds on a real engine). */
  settleMs: number;
  cleanup(): Promise<void>;
}

const isCode = (code: string) => (err: unknown) => err instanceof CmeshError && err.code === code;

/** Polls until `check` returns a value (not undefined) or the harness's settle time runs out. */
async function until<T>(h: SwarmHarness, what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + h.settleMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const running = (tasks: SwarmTaskInfo[]) => tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');

export function swarmContract(name: string, makeHarness: () => Promise<SwarmHarness>): void {
  let harness: SwarmHarness | undefined;
  const h = (): SwarmHarness => {
    assert.ok(harness, 'the harness is made in before()');
    return harness;
  };
  const labels = () => ({ ...h().labels, ...projectLabels(h().project) });
  const spec = (service: string, replicas: number, over: Partial<SwarmServiceSpec> = {}): SwarmServiceSpec => ({
    Name: `${h().project}_${service}`,
    Labels: { ...labels(), [Labels.service]: service },
    TaskTemplate: {
      ContainerSpec: { Image: h().imageId, Labels: { ...labels(), [Labels.service]: service }, Command: ['sleep', '300'], Env: ['CMESH_CONTRACT=1'], Init: true },
      RestartPolicy: { Condition: 'any' },
      Networks: [],
    },
    Mode: { Replicated: { Replicas: replicas } },
    UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' },
    EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }] },
    ...over,
  });

  describe(`swarm contract: ${name}`, { timeout: 180_000 }, () => {
    before(async () => {
      harness = await makeHarness();
    });
    after(async () => {
      await harness?.cleanup();
    });

    it('reports an active manager', async () => {
      const s = await h().swarm.swarmStatus();
      assert.equal(s.state, 'active');
      assert.equal(s.manager, true);
    });

    it('runs a replicated service whose tasks carry its labels and an engine-chosen host port each', async () => {
      const created = await h().swarm.createService(spec('web', 2));
      assert.equal(created.spec.Mode.Replicated.Replicas, 2);
      assert.equal(created.spec.TaskTemplate.ContainerSpec.Image.startsWith(h().imageId), true);
      const tasks = await until(h(), '2 running tasks', async () => {
        const r = running(await h().swarm.listTasks(labels()));
        return r.length === 2 && r.every((t) => t.ports.length === 1) ? r : undefined;
      });
      assert.deepEqual(tasks.map((t) => t.slot).sort(), [1, 2]);
      for (const t of tasks) {
        assert.equal(t.serviceId, created.id);
        assert.equal(t.labels[Labels.project], h().project);
        assert.equal(t.labels[Labels.service], 'web');
        assert.equal(t.ports[0]!.targetPort, 8080);
        assert.ok(t.ports[0]!.publishedPort > 0, 'the engine picked a host port');
        assert.ok(t.containerId, 'a running task has a container');
      }
      assert.notEqual(tasks[0]!.ports[0]!.publishedPort, tasks[1]!.ports[0]!.publishedPort);
    });

    it('lists and inspects services by label and name; a second service of that name is a name conflict', async () => {
      const listed = await h().swarm.listServices(labels());
      assert.deepEqual(listed.map((s) => s.spec.Name), [`${h().project}_web`]);
      const byName = await h().swarm.inspectService(`${h().project}_web`);
      assert.equal(byName?.id, listed[0]!.id);
      assert.equal(byName?.spec.Labels[Labels.service], 'web');
      assert.equal(await h().swarm.inspectService(`${h().project}_nothing`), undefined);
      await assert.rejects(h().swarm.createService(spec('web', 1)), isCode('CMESH_E_NAME_CONFLICT'));
    });

    it('updates with the current version only, and scales down to the new count', async () => {
      const s = (await h().swarm.inspectService(`${h().project}_web`))!;
      await h().swarm.updateService(s.id, s.version, spec('web', 1));
      await assert.rejects(h().swarm.updateService(s.id, s.version, spec('web', 3)), (err: unknown) => isCode('CMESH_E_ENGINE')(err) && (err as CmeshError).details['reason'] === 'out-of-sequence', 'a stale version is refused, as out of sequence');
      const after = (await h().swarm.inspectService(s.id))!;
      assert.ok(after.version > s.version);
      assert.equal(after.spec.Mode.Replicated.Replicas, 1);
      await until(h(), '1 running task', async () => (running(await h().swarm.listTasks(labels())).length === 1 ? true : undefined));
    });

    it('streams events: a new task’s container starts with its labels and task name; a template update moves the update state', async () => {
      const ac = new AbortController();
      const seen: SwarmEvent[] = [];
      const pump = (kind: SwarmEventKind) =>
        (async () => {
          for await (const e of h().swarm.events({ kind, labels: labels(), signal: ac.signal })) seen.push(e);
        })().catch(() => undefined);
      const pumps = [pump('task'), pump('service')];
      try {
        await sleep(300); // the engine answers the subscription before it streams
        const s = (await h().swarm.inspectService(`${h().project}_web`))!;
        const next = spec('web', 1);
        next.TaskTemplate.ContainerSpec.Env = ['CMESH_CONTRACT=2'];
        await h().swarm.updateService(s.id, s.version, next);
        const states = () => seen.filter((e) => e.kind === 'service' && e.id === s.id && e.action === 'update').map((e) => e.attributes['updatestate.new']);
        await until(h(), 'the update completed', async () => (states().includes('completed') ? true : undefined));
        assert.deepEqual(states().filter(Boolean), ['updating', 'completed']);
        const start = seen.find((e) => e.kind === 'task' && e.action === 'start');
        assert.ok(start, `a task container start among ${seen.map((e) => `${e.kind}:${e.action}`)}`);
        assert.equal(start.attributes[Labels.project], h().project);
        assert.match(start.attributes['com.docker.swarm.task.name'] ?? '', new RegExp(`^${h().project}_web\\.1\\.\\w+$`));
        assert.ok(seen.every((e) => e.kind === 'service' || e.attributes[Labels.project] === h().project), 'only containers carrying the labels');
      } finally {
        ac.abort();
        await Promise.all(pumps);
      }
    });

    it('replays from `since`: a stream opened later from the first event’s time brings those events again, in order', async () => {
      const collect = (since: number | undefined, into: SwarmEvent[], signal: AbortSignal) =>
        (async () => {
          for await (const e of h().swarm.events({ kind: 'task', labels: labels(), signal, ...(since === undefined ? {} : { since }) })) into.push(e);
        })().catch(() => undefined);
      const brief = (e: SwarmEvent) => `${e.action} ${e.id} ${e.time}`;
      const live: SwarmEvent[] = [];
      const liveAc = new AbortController();
      const liveDone = collect(undefined, live, liveAc.signal);
      try {
        await sleep(300);
        const s = (await h().swarm.inspectService(`${h().project}_web`))!;
        const next = spec('web', 2);
        next.TaskTemplate.ContainerSpec.Env = ['CMESH_CONTRACT=2']; // the previous update's template: a scale, no rollout
        await h().swarm.updateService(s.id, s.version, next);
        await until(h(), 'the new task container started', async () => (live.some((e) => e.action === 'start') ? true : undefined));
      } finally {
        liveAc.abort();
        await liveDone;
      }
      const replayed: SwarmEvent[] = [];
      const ac = new AbortController();
      const done = collect(live[0]!.time, replayed, ac.signal);
      try {
        await until(h(), `the replay of ${live.map(brief)}`, async () => (replayed.length >= live.length ? true : undefined));
      } finally {
        ac.abort();
        await done;
      }
      assert.deepEqual(replayed.slice(0, live.length).map(brief), live.map(brief));
    });

    it('creates attachable overlays; a taken name conflicts; removal is idempotent', async () => {
      const name = `${h().project}_net`;
      const n = await h().swarm.createNetwork({ name, labels: labels(), attachable: true });
      // The manager answers the create before the node lists the overlay.
      const listed = await until(h(), 'the overlay in the list', async () => {
        const l = await h().swarm.listNetworks(labels());
        return l.length > 0 ? l : undefined;
      });
      assert.deepEqual(
        listed.map((x) => ({ id: x.id, name: x.name, driver: x.driver, scope: x.scope, attachable: x.attachable })),
        [{ id: n.id, name, driver: 'overlay', scope: 'swarm', attachable: true }],
      );
      await assert.rejects(h().swarm.createNetwork({ name, labels: labels(), attachable: true }), isCode('CMESH_E_NAME_CONFLICT'));
      await h().swarm.removeNetwork(name);
      await h().swarm.removeNetwork(name);
      await until(h(), 'the overlay gone from the list', async () => ((await h().swarm.listNetworks(labels())).length === 0 ? true : undefined));
    });

    for (const kind of ['secret', 'config'] as const) {
      it(`${kind}s: create, list by label, conflict on a taken name, in use while a service holds it, idempotent remove`, async () => {
        const name = `${h().project}_${kind}_token`;
        const o = await h().swarm.createObject(kind, { name, labels: labels(), data: Buffer.from('s3cret') });
        assert.deepEqual((await h().swarm.listObjects(kind, labels())).map((x) => [x.id, x.name]), [[o.id, name]]);
        await assert.rejects(h().swarm.createObject(kind, { name, labels: labels(), data: Buffer.from('x') }), isCode('CMESH_E_NAME_CONFLICT'));
        const file = { Name: kind === 'secret' ? '/run/secrets/token' : '/token', UID: '0', GID: '0', Mode: 0o444 };
        const ref = kind === 'secret' ? { File: file, SecretID: o.id, SecretName: name } : { File: file, ConfigID: o.id, ConfigName: name };
        const user = spec(`uses-${kind}`, 0);
        user.TaskTemplate.ContainerSpec[kind === 'secret' ? 'Secrets' : 'Configs'] = [ref];
        await h().swarm.createService(user);
        await assert.rejects(h().swarm.removeObject(kind, o.id), isCode('CMESH_E_ENGINE'));
        await h().swarm.removeService(user.Name);
        await h().swarm.removeObject(kind, o.id);
        await h().swarm.removeObject(kind, o.id);
        assert.deepEqual(await h().swarm.listObjects(kind, labels()), []);
      });
    }

    it('removes services idempotently, and their tasks with them', async () => {
      await h().swarm.removeService(`${h().project}_web`);
      await h().swarm.removeService(`${h().project}_web`);
      assert.deepEqual(await h().swarm.listServices(labels()), []);
      assert.deepEqual(await h().swarm.listTasks(labels()), []);
    });
  });
}
