// The adapter's reach decision against a scripted engine: one `info` an adapter, told to the daemon once, and what
// each decision sends in the create body (published bindings, or labels and no bindings).

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ContainerCreateSpec } from '../api/engine.ts';
import { createDockerEngine } from './dockerode-engine.ts';
import type { ReachDecision } from './replica-reach.ts';
import { json, ScriptedEngine } from './scripted-engine.ts';

const scripted = new ScriptedEngine();
const spec: ContainerCreateSpec = {
  name: 'p-web-1',
  image: 'app:dev',
  env: {},
  labels: {},
  ports: [{ containerPort: 80, protocol: 'tcp' }],
  mounts: [],
  networks: [{ name: 'p_default', aliases: ['web'] }],
  init: false,
  reachNetwork: 'p_default',
};

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text) as Record<string, unknown>;
}

describe('the adapter decides how replicas are reached once, and tells the daemon', () => {
  before(() => scripted.start());
  after(() => scripted.stop());

  for (const [name, info, mode] of [
    ['a local Linux engine', { OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', SecurityOptions: ['name=seccomp,profile=default'] }, 'direct'],
    ['a rootless engine', { OperatingSystem: 'Ubuntu 24.04', SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'] }, 'published'],
  ] as const) {
    it(`${name}: ${mode}`, async () => {
      let infos = 0;
      const bodies: Record<string, unknown>[] = [];
      scripted.route('GET', '/info', (_q, res) => {
        infos++;
        json(res, 200, info);
      });
      scripted.route('POST', '/containers/create', async (q, res) => {
        bodies.push(await bodyOf(q));
        json(res, 201, { Id: `c${bodies.length}`, Warnings: [] });
      });
      const told: ReachDecision[] = [];
      const engine = createDockerEngine({ host: `unix://${scripted.socketPath}`, reach: 'auto', onReach: (d) => told.push(d) });
      await engine.createContainer(spec);
      await engine.createContainer({ ...spec, name: 'p-web-2' });
      await engine.createContainer({ ...spec, name: 'p-web-3', reachNetwork: undefined });
      assert.equal(infos, 1, 'one info call an adapter');
      assert.deepEqual(told.map((d) => d.mode), [mode], 'told once');
      const hostConfig = (b: Record<string, unknown>) => b['HostConfig'] as { PortBindings: Record<string, unknown> };
      const labels = (b: Record<string, unknown>) => b['Labels'] as Record<string, string>;
      if (mode === 'direct') {
        assert.deepEqual(hostConfig(bodies[0]!).PortBindings, {});
        assert.equal(labels(bodies[0]!)['dev.cmesh.reach-network'], 'p_default');
      } else {
        assert.deepEqual(hostConfig(bodies[0]!).PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
        assert.equal(labels(bodies[0]!)['dev.cmesh.reach-network'], undefined);
      }
      assert.deepEqual(hostConfig(bodies[2]!).PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, 'no reach network: published');
    });
  }

  it('an engine whose info fails gets published ports, with the reason told', async () => {
    scripted.route('GET', '/info', (_q, res) => json(res, 500, { message: 'boom' }));
    scripted.route('POST', '/containers/create', (_q, res) => json(res, 201, { Id: 'c1', Warnings: [] }));
    const told: ReachDecision[] = [];
    const engine = createDockerEngine({ host: `unix://${scripted.socketPath}`, reach: 'auto', onReach: (d) => told.push(d) });
    await engine.createContainer(spec);
    assert.equal(told[0]?.mode, 'published');
    assert.match(told[0]!.reason, /info failed/);
  });
});
