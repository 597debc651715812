// Real-engine tests for the dockerode adapter: everything created is labelled dev.cmesh.test=true and removed in after().

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import type { BuildProgress, ContainerCreateSpec, EngineEvent, LogLine } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import { createDockerEngine } from './dockerode-engine.ts';

const run = randomBytes(4).toString('hex');
const project = `enginetest-${run}`;
const image = `cmesh-enginetest-${run}:latest`;
const labels = { ...projectLabels(project), [Labels.test]: 'true' };
const engine = createDockerEngine();

function tarOf(files: Record<string, Buffer | string>): Readable {
  const p = pack();
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    p.entry({ name, mode: name === 'busybox' ? 0o755 : 0o644, mtime: new Date(0) }, content);
  }
  p.finalize();
  return p as unknown as Readable;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<CmeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CmeshError, `expected CmeshError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

function spec(name: string, over: Partial<ContainerCreateSpec> = {}): ContainerCreateSpec {
  return {
    name: `${project}-${name}`,
    image,
    env: { CMESH_TEST: '1' },
    labels: { ...labels, [Labels.service]: name, [Labels.replica]: '1' },
    ports: [],
    mounts: [],
    networks: [],
    init: true,
    stopTimeoutSec: 2,
    ...over,
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dockerode engine (real Docker)', { timeout: 90_000 }, () => {
  before(async () => {
    const progress = await collect(
      engine.buildImage({
        context: tarOf({
          Dockerfile: [
            'FROM scratch',
            'COPY busybox /bin/busybox',
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
            'RUN ["/bin/busybox", "mkdir", "-p", "/www"]',
            'CMD ["sh"]',
          ].join('\n'),
          busybox: readFileSync('/bin/busybox'),
        }),
        dockerfile: 'Dockerfile',
        tags: [image],
        labels: { [Labels.test]: 'true', [Labels.project]: project },
      }),
    );
    assert.ok(progress.some((p) => p.kind === 'step' && p.step === 1));
    assert.equal(progress.at(-1)?.kind, 'done');
  });

  after(async () => {
    // Reap by label even when a test failed half-way; never touch anything else.
    for (const c of await engine.listContainers({ labels: { [Labels.project]: project } }).catch(() => [])) {
      await engine.removeContainer(c.id, { force: true, volumes: true }).catch(() => {});
    }
    for (const n of await engine.listNetworks({ [Labels.project]: project }).catch(() => [])) {
      await engine.removeNetwork(n.name).catch(() => {});
    }
    for (const v of await engine.listVolumes({ [Labels.project]: project }).catch(() => [])) {
      await engine.removeVolume(v.name).catch(() => {});
    }
    for (const tag of [image, `cmesh-enginetest-${run}-fail:latest`]) await engine.removeImage(tag).catch(() => {});
  });

  it('pings the engine', async () => {
    const info = await engine.ping();
    assert.match(info.apiVersion, /^1\.\d+$/);
    assert.ok(info.version.length > 0);
  });

  it('reports an unreachable engine with a hint', async () => {
    const err = await rejectsWith(createDockerEngine({ host: 'unix:///tmp/nope.sock' }).ping(), 'CMESH_E_ENGINE_UNAVAILABLE');
    assert.match(err.message, /nope\.sock/);
    assert.match(err.hint ?? '', /ensure-docker\.sh/);
  });

  it('built a labelled image and can inspect it', async () => {
    const img = await engine.inspectImage(image);
    assert.ok(img);
    assert.ok(img.id.startsWith('sha256:'));
    assert.ok(img.tags.includes(image));
    assert.equal(img.labels[Labels.test], 'true');
    assert.equal(await engine.inspectImage(`cmesh-enginetest-${run}-nope:latest`), undefined);
  });

  it('fails a build on a failing RUN even though the HTTP status is 200', async () => {
    const seen: BuildProgress[] = [];
    const err = await rejectsWith(
      (async () => {
        for await (const p of engine.buildImage({
          context: tarOf({ Dockerfile: `FROM ${image}\nRUN echo about to fail && echo oops >&2 && exit 3\n` }),
          dockerfile: 'Dockerfile',
          tags: [`cmesh-enginetest-${run}-fail:latest`],
          labels: { [Labels.test]: 'true' },
        })) {
          seen.push(p);
        }
      })(),
      'CMESH_E_BUILD_FAILED',
    );
    assert.equal(err.details.step, 2);
    assert.match(String(err.details.instruction), /^RUN echo about to fail/);
    assert.ok((err.details.output as string[]).includes('about to fail'));
    assert.match(err.message, /step 2\/\d+.*returned a non-zero code: 3/);
    assert.ok(seen.some((p) => p.kind === 'error'));
  });

  it('runs a container with a published loopback port, idempotent start, list, exec, archive', async () => {
    const net1 = await engine.createNetwork({ name: `${project}_front`, labels });
    const net2 = await engine.createNetwork({ name: `${project}_back`, labels });
    const s = spec('web', {
      command: ['httpd', '-f', '-p', '8080', '-h', '/www'],
      ports: [{ containerPort: 8080, protocol: 'tcp' }],
      networks: [
        { name: net1.name, aliases: ['web'] },
        { name: net2.name, aliases: ['web-back'] },
      ],
      healthcheck: { test: ['CMD', 'true'], intervalMs: 1000, disable: false },
      workingDir: '/www',
      hostname: 'webhost',
    });
    const { id } = await engine.createContainer(s);
    await engine.putArchive(id, '/www', tarOf({ 'index.html': `hello ${run}\n` }));
    await engine.startContainer(id);
    await engine.startContainer(id); // 304 = success

    const info = await engine.inspectContainer(id);
    assert.equal(info?.state, 'running');
    assert.equal(info.name, s.name);
    assert.ok(info.startedAt && info.startedAt > Date.now() - 60_000);
    assert.equal(info.exitCode, undefined);
    const ep = info.endpoints.find((e) => e.containerPort === 8080);
    assert.ok(ep);
    assert.equal(ep.host, '127.0.0.1');
    assert.ok(ep.hostPort > 0);

    const body = await waitFor('httpd', async () => {
      const res = await fetch(`http://127.0.0.1:${ep.hostPort}/index.html`);
      return res.ok ? res.text() : undefined;
    });
    assert.equal(body, `hello ${run}\n`);

    const nets = JSON.parse(
      execFileSync('docker', ['inspect', '-f', '{{json .NetworkSettings.Networks}}', id], { encoding: 'utf8' }),
    ) as Record<string, { Aliases: string[] | null }>;
    assert.deepEqual(Object.keys(nets).sort(), [net2.name, net1.name].sort());
    assert.ok(nets[net1.name]?.Aliases?.includes('web'));

    const listed = await engine.listContainers({ labels: { [Labels.project]: project, [Labels.service]: 'web' } });
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.id, id);
    assert.equal(listed[0]?.state, 'running');
    assert.deepEqual(listed[0]?.endpoints, info.endpoints);
    assert.equal((await engine.listContainers({ labels: { [Labels.project]: `${project}-other` } })).length, 0);

    const healthy = await waitFor('healthy', async () => {
      const c = await engine.inspectContainer(id);
      return c?.health === 'healthy' ? c : undefined;
    });
    assert.equal(healthy.health, 'healthy');
    const listedHealthy = await engine.listContainers({ labels: { [Labels.project]: project, [Labels.service]: 'web' } });
    assert.equal(listedHealthy[0]?.health, 'healthy');

    const cat = await engine.exec(id, ['cat', '/www/index.html']);
    assert.deepEqual(cat, { exitCode: 0, output: `hello ${run}\n` });
    const failing = await engine.exec(id, ['sh', '-c', 'echo to-stderr >&2; exit 3']);
    assert.deepEqual(failing, { exitCode: 3, output: 'to-stderr\n' });

    // A network with a running container cannot go away; the error says why.
    const busy = await rejectsWith(engine.removeNetwork(net1.name), 'CMESH_E_ENGINE');
    assert.equal(busy.details.reason, 'active-endpoints');

    const conflict = await rejectsWith(engine.createContainer(s), 'CMESH_E_NAME_CONFLICT');
    assert.equal(conflict.details.existingId, id);

    await engine.pauseContainer(id);
    await engine.pauseContainer(id);
    assert.equal((await engine.inspectContainer(id))?.state, 'paused');
    await engine.unpauseContainer(id);
    await engine.unpauseContainer(id);

    await engine.stopContainer(id, 2);
    await engine.stopContainer(id, 2); // 304 = success
    const stopped = await engine.inspectContainer(id);
    assert.equal(stopped?.state, 'exited');
    assert.equal(typeof stopped.exitCode, 'number');
    assert.ok(stopped.finishedAt);
    await engine.removeContainer(id);
    await engine.removeContainer(id); // 404 = success
    await engine.stopContainer(id); // gone = success
    assert.equal(await engine.inspectContainer(id), undefined);
  });

  it('refuses a missing image without pulling', async () => {
    const err = await rejectsWith(
      engine.createContainer(spec('noimg', { image: `cmesh-enginetest-${run}-missing:latest` })),
      'CMESH_E_IMAGE_MISSING',
    );
    assert.match(err.hint ?? '', /never pulls/);
  });

  it('streams logs (follow, tail, timestamps) and start/die events', async () => {
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    const since = Date.now() - 1000;
    const eventsDone = (async () => {
      for await (const e of engine.events({ signal: ac.signal, since })) events.push(e);
    })();
    try {
      await logsAndEvents(events);
    } finally {
      ac.abort(); // even when an assertion failed: an open event stream would keep the test process alive
    }
    await eventsDone; // ends quietly on abort
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  async function logsAndEvents(events: EngineEvent[]): Promise<void> {

    const { id } = await engine.createContainer(
      spec('echo', { command: ['sh', '-c', 'for i in 1 2 3; do echo line $i; echo err $i >&2; sleep 0.1; done; printf tail-no-newline'] }),
    );
    const t0 = Date.now();
    await engine.startContainer(id);
    const followed = await collect(engine.containerLogs(id, { follow: true }));
    const text = (stream: string, lines: LogLine[]) => lines.filter((l) => l.stream === stream).map((l) => l.text);
    // The engine may close a follow before its log copier flushes a final partial line, so it is optional here.
    assert.deepEqual(text('stdout', followed).slice(0, 3), ['line 1', 'line 2', 'line 3']);
    assert.deepEqual(text('stderr', followed), ['err 1', 'err 2', 'err 3']);
    for (const l of followed) assert.ok(Math.abs(l.time - t0) < 10_000, `timestamp ${l.time} parsed from the engine`);

    const all = await waitFor('partial last line', async () => {
      const lines = await collect(engine.containerLogs(id, { follow: false }));
      return lines.at(-1)?.text === 'tail-no-newline' ? lines : undefined;
    });
    assert.equal(all.length, 7);
    const tail = await collect(engine.containerLogs(id, { follow: false, tail: 2 }));
    assert.deepEqual(
      tail.map((l) => l.text),
      all.slice(-2).map((l) => l.text),
    );
    const recent = await collect(engine.containerLogs(id, { follow: false, since: all[4]!.time }));
    assert.ok(recent.length >= 2 && recent.length < 7, `since filters by time (${recent.length})`);

    await waitFor('die event', async () => (events.some((e) => e.id === id && e.action === 'die') ? true : undefined));
    const mine = events.filter((e) => e.id === id);
    assert.ok(mine.some((e) => e.action === 'start'));
    const die = mine.find((e) => e.action === 'die');
    assert.equal(die?.type, 'container');
    assert.equal(die.labels[Labels.project], project);
    assert.equal(die.attributes?.exitCode, '0');
  }

  it('ends a followed log stream on abort', async () => {
    const { id } = await engine.createContainer(spec('ticker', { command: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'] }));
    await engine.startContainer(id);
    const ac = new AbortController();
    const lines: LogLine[] = [];
    const started = Date.now();
    setTimeout(() => ac.abort(), 600);
    for await (const l of engine.containerLogs(id, { follow: true, signal: ac.signal })) lines.push(l);
    assert.ok(Date.now() - started < 5000);
    assert.ok(lines.length >= 2);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'no listener left on the caller signal');

    // A long-lived signal reused across calls must not collect listeners (the daemon reuses its shutdown signal).
    const shared = new AbortController();
    for (let i = 0; i < 3; i++) {
      for await (const l of engine.containerLogs(id, { follow: true, signal: shared.signal })) {
        assert.equal(l.text, 'tick');
        break; // consumer stops early: the stream must be destroyed
      }
    }
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
    await engine.killContainer(id, 'SIGKILL');
    await engine.killContainer(id); // not running = success
    assert.equal((await engine.inspectContainer(id))?.exitCode, 137);
    await engine.removeContainer(id, { force: true });
  });

  it('creates and removes networks and volumes idempotently, refusing foreign owners', async () => {
    const netSpec = { name: `${project}_net`, labels };
    const a = await engine.createNetwork(netSpec);
    const b = await engine.createNetwork(netSpec);
    assert.equal(a.id, b.id);
    assert.equal((await engine.inspectNetwork(netSpec.name))?.id, a.id);
    const foreign = await rejectsWith(
      engine.createNetwork({ name: netSpec.name, labels: { ...labels, [Labels.project]: 'someone-else' } }),
      'CMESH_E_NAME_CONFLICT',
    );
    assert.equal(foreign.details.existingId, a.id);
    assert.ok((await engine.listNetworks({ [Labels.project]: project })).some((n) => n.id === a.id));
    await engine.removeNetwork(netSpec.name);
    await engine.removeNetwork(netSpec.name);
    assert.equal(await engine.inspectNetwork(netSpec.name), undefined);

    const volSpec = { name: `${project}_data`, labels };
    const v1 = await engine.createVolume(volSpec);
    const v2 = await engine.createVolume(volSpec);
    assert.deepEqual(v1, v2);
    assert.equal(v1.labels[Labels.project], project);
    await rejectsWith(
      engine.createVolume({ name: volSpec.name, labels: { ...labels, [Labels.project]: 'someone-else' } }),
      'CMESH_E_NAME_CONFLICT',
    );
    assert.ok((await engine.listVolumes({ [Labels.project]: project })).some((v) => v.name === volSpec.name));
    await engine.removeVolume(volSpec.name);
    await engine.removeVolume(volSpec.name);
    assert.equal(await engine.inspectVolume(volSpec.name), undefined);
  });

  it('maps an invalid bind mount to CMESH_E_VOLUME_PATH', async () => {
    await rejectsWith(
      engine.createContainer(
        spec('badmount', { mounts: [{ type: 'bind', source: `/tmp/cmesh-nope-${run}`, target: '/data', readOnly: true }] }),
      ),
      'CMESH_E_VOLUME_PATH',
    );
  });
});
