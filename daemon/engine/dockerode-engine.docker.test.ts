// Real-engine tests of what only the dockerode adapter can show (the shared semantics live in the engine contract):
// the engine answering at all, multi-network wiring with aliases, traffic to a published port, healthchecks, files
// put into a container, partial log lines and abort listeners. Labelled with the test and run labels, reaped in after().

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { cleanup, newRunId, requireDocker, testLabels, dockerTestFile } from '../../test/helpers/docker.ts';
import type { ContainerCreateSpec, LogLine } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import { createDockerEngine } from './dockerode-engine.ts';
import { collect, rejectsCode, tarOf, waitFor } from './engine-test-kit.ts';

await dockerTestFile();

const runId = newRunId('engine');
const labels = { ...projectLabels(runId), ...testLabels(runId) };
const engine = createDockerEngine();

function spec(name: string, over: Partial<ContainerCreateSpec> = {}): ContainerCreateSpec {
  return {
    name: `${runId}-${name}`,
    image: 'cmesh/busybox:local',
    env: {},
    labels: { ...labels, [Labels.service]: name, [Labels.replica]: '1' },
    ports: [],
    mounts: [],
    networks: [],
    init: true,
    stopTimeoutSec: 2,
    ...over,
  };
}

describe('dockerode engine (real Docker, adapter-only)', { timeout: 90_000 }, () => {
  before(requireDocker);
  after(() => cleanup(runId));

  it('pings the engine, and reports an unreachable one with a hint', async () => {
    const info = await engine.ping();
    assert.match(info.apiVersion, /^1\.\d+$/);
    assert.ok(info.version.length > 0);
    const err = await rejectsCode(createDockerEngine({ host: 'unix:///tmp/nope.sock' }).ping(), 'CMESH_E_ENGINE_UNAVAILABLE');
    assert.match(err.message, /nope\.sock/);
    assert.match(err.hint ?? '', /ensure-docker\.sh/);
  });

  it('wires every network with its aliases, serves on the published port, runs healthchecks, takes archives', async () => {
    const net1 = await engine.createNetwork({ name: `${runId}_front`, labels });
    const net2 = await engine.createNetwork({ name: `${runId}_back`, labels });
    const s = spec('web', {
      command: ['httpd', '-f', '-p', '8080', '-h', '/www'],
      ports: [{ containerPort: 8080, protocol: 'tcp' }],
      networks: [
        { name: net1.name, aliases: ['web'] },
        { name: net2.name, aliases: ['web-back'] },
      ],
      healthcheck: { test: ['CMD', 'true'], intervalMs: 1000, disable: false },
      workingDir: '/tmp',
      hostname: 'webhost',
    });
    const { id } = await engine.createContainer(s);
    await engine.putArchive(id, '/', tarOf({ 'www/index.html': `hello ${runId}\n` }));
    await engine.startContainer(id);
    const ep = (await engine.inspectContainer(id))?.endpoints.find((e) => e.containerPort === 8080);
    assert.ok(ep);
    const body = await waitFor('httpd', async () => {
      const res = await fetch(`http://127.0.0.1:${ep.hostPort}/index.html`, { signal: AbortSignal.timeout(1000) });
      return res.ok ? res.text() : undefined;
    });
    assert.equal(body, `hello ${runId}\n`);
    assert.deepEqual(await engine.exec(id, ['cat', '/www/index.html']), { exitCode: 0, output: `hello ${runId}\n` });
    assert.deepEqual(await engine.exec(id, ['hostname']), { exitCode: 0, output: 'webhost\n' });

    const nets = JSON.parse(
      execFileSync('docker', ['inspect', '-f', '{{json .NetworkSettings.Networks}}', id], { encoding: 'utf8' }),
    ) as Record<string, { Aliases: string[] | null }>;
    assert.deepEqual(Object.keys(nets).sort(), [net2.name, net1.name].sort());
    assert.ok(nets[net1.name]?.Aliases?.includes('web'));
    assert.ok(nets[net2.name]?.Aliases?.includes('web-back'));

    await waitFor('healthy', async () => ((await engine.inspectContainer(id))?.health === 'healthy' ? true : undefined));
    const listed = await engine.listContainers({ labels: { [Labels.project]: runId, [Labels.service]: 'web' } });
    assert.equal(listed[0]?.health, 'healthy');
    await engine.removeContainer(id, { force: true });
  });

  it('flushes a partial last log line, parses engine timestamps, and leaves no listener on a reused signal', async () => {
    const t0 = Date.now();
    const printer = await engine.createContainer(spec('logs', { command: ['sh', '-c', 'echo line 1; echo err 1 >&2; printf tail-no-newline'] }));
    await engine.startContainer(printer.id);
    // The engine may close a follow before its log copier flushes the final partial line, so read until it is there.
    const lines = await waitFor('the partial line', async () => {
      const all = await collect(engine.containerLogs(printer.id, { follow: false }));
      return all.at(-1)?.text === 'tail-no-newline' ? all : undefined;
    });
    assert.deepEqual(lines.map((l) => `${l.stream}:${l.text}`).sort(), ['stderr:err 1', 'stdout:line 1', 'stdout:tail-no-newline']);
    for (const l of lines) assert.ok(Math.abs(l.time - t0) < 10_000, `timestamp ${l.time} parsed from the engine`);

    const { id } = await engine.createContainer(spec('ticker', { command: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'] }));
    await engine.startContainer(id);
    // A long-lived signal reused across calls must not collect listeners (the daemon reuses its shutdown signal).
    const shared = new AbortController();
    for (let i = 0; i < 3; i++) {
      for await (const l of engine.containerLogs(id, { follow: true, tail: 1, signal: shared.signal })) {
        assert.equal(l.text, 'tick');
        break; // the consumer stops early: the stream must be destroyed
      }
    }
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
    const followed: LogLine[] = [];
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 400);
    await collect(engine.containerLogs(id, { follow: true, tail: 0, signal: ac.signal }), followed);
    assert.ok(followed.length >= 2, `ticks while following (${followed.length})`);
    await engine.removeContainer(id, { force: true });
  });
});
