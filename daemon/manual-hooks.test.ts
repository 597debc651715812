// post_start / pre_stop around the manager's own stops and starts (`restart`, `stop`/`start`, sync+restart): the same
// hooks the loop runs, drained first, with a failing pre_stop only warning.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonEvent } from './api/events.ts';
import type { CmeshError } from './api/errors.ts';
import { projectLabels } from './api/labels.ts';
import { drainedStop, postStartHooks } from './project-mesh.ts';
import { engineWithProject, recordingMesh } from './project-testing.ts';
import { desired, project, svc } from './reconcile/testing.ts';
import { rollingRestart } from './rolling-restart.ts';

const hook = (script: string) => ({ command: ['sh', '-c', script], environment: {} });
const app = desired(project('app', [svc('web', { replicas: 2, stopGracePeriodMs: 1_000, preStop: [hook('flush')], postStart: [hook('warm')] })]));

test('a rolling restart drains, runs pre_stop, stops, starts and runs post_start, replica by replica', async () => {
  const log: string[] = [];
  const engine = await engineWithProject(app, log);
  engine.setExecHandler((c, command) => {
    log.push(`exec ${c.spec.name} ${command.at(-1)}`);
    return { exitCode: 0, output: '' };
  });
  const web = await engine.listContainers({ labels: projectLabels('app'), all: true });
  const ctx = { engine, mesh: recordingMesh(log, () => true), project: 'app', desired: () => app, reconcileNow: async () => undefined };
  await rollingRestart(ctx, web, { services: ['web'] });
  assert.deepEqual(log, [
    'drain app app-web-1 1000ms',
    'exec app-web-1 flush',
    'stop app-web-1',
    'undrain app app-web-1',
    'start app-web-1',
    'exec app-web-1 warm',
    'drain app app-web-2 1000ms',
    'exec app-web-2 flush',
    'stop app-web-2',
    'undrain app app-web-2',
    'start app-web-2',
    'exec app-web-2 warm',
  ]);
});

test('without a mesh a manual stop still runs pre_stop; its failure warns and the stop goes on', async () => {
  const log: string[] = [];
  const engine = await engineWithProject(app, log);
  engine.setExecHandler(() => ({ exitCode: 1, output: 'no flush\n' }));
  const events: DaemonEvent[] = [];
  const [c] = await engine.listContainers({ labels: projectLabels('app'), all: true });
  const ctx = { engine, emit: (e: DaemonEvent) => events.push(e), mesh: undefined, project: 'app', desired: () => app };
  await drainedStop(ctx, c!, { services: [] }, () => engine.stopContainer(c!.id));
  assert.equal(engine.container(c!.id)?.state, 'exited');
  assert.ok(events.some((e) => e.type === 'warning' && e.key === 'pre_stop' && /no flush/.test(e.message)));
  await engine.startContainer(c!.id);
  await assert.rejects(postStartHooks(ctx, c!), (e: CmeshError) => e.code === 'CMESH_E_HOOK_FAILED');
  assert.equal(engine.container(c!.id)?.exitCode, 137, 'a replica whose post_start failed is killed');
});
