// scripts/reap.sh on a real single-node swarm: what a crashed swarm test leaves (a test-labelled service, and the
// secret, config and overlay cmesh made for its project with only cmesh's labels) is reaped; a cmesh project with no
// test-labelled service (a user's) is never touched. The test joins the engine to a swarm only when it is in none and
// leaves it again (only if it did the init); everything it creates is removed, also on failure.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, ROOT, RUN_LABEL, run, TEST_LABEL } from '../helpers/docker.ts';
import { swarmTestFile } from '../helpers/swarm.ts';

const exec = promisify(execFile);
const runId = newRunId('swarmreap');
const user = `${runId}-user`;
const created: { kind: string; id: string }[] = [];
// Registered before the file's swarm teardown, so it runs first: the objects go before the swarm is left.
after(async () => {
  for (const o of created.reverse()) await run([o.kind, 'rm', o.id]).catch(() => undefined);
});
const session = await swarmTestFile([runId]);

const cmeshLabels = (project: string) => ['--label', 'dev.cmesh.managed=true', '--label', `dev.cmesh.project=${project}`, '--label', 'dev.cmesh.target=swarm'];
async function make(kind: string, args: string[]): Promise<string> {
  const id = await run([kind, 'create', ...args]);
  created.push({ kind, id });
  return id;
}
const exists = (kind: string, id: string) => run([kind, 'inspect', id]).then(() => true, () => false);
const reap = async (...args: string[]) => (await exec(join(ROOT, 'scripts/reap.sh'), args, { timeout: 120_000 })).stdout;

test('reap.sh removes a crashed swarm test’s service, secret, config and overlay, and no user’s swarm object', { skip: session.skip, timeout: 180_000 }, async () => {
  await ensureBaseImages();
  const image = await run(['image', 'inspect', '--format', '{{.Id}}', 'cmesh/busybox:local']);
  const net = await make('network', ['--driver', 'overlay', '--attachable', ...cmeshLabels(runId), `${runId}_default`]);
  const secret = await make('secret', [...cmeshLabels(runId), `${runId}_token_abc`, join(ROOT, 'package.json')]);
  const config = await make('config', [...cmeshLabels(runId), `${runId}_greeting_abc`, join(ROOT, 'package.json')]);
  const theirs = await make('secret', [...cmeshLabels(user), `${user}_token_abc`, join(ROOT, 'package.json')]);
  const service = await make('service', [
    '--detach', '--name', `${runId}_web`, ...cmeshLabels(runId), '--label', `${TEST_LABEL}=true`, '--label', `${RUN_LABEL}=${runId}`,
    '--container-label', `${TEST_LABEL}=true`, '--container-label', `dev.cmesh.project=${runId}`,
    '--secret', `${runId}_token_abc`, '--config', `source=${runId}_greeting_abc,target=/greeting`, '--network', `${runId}_default`,
    image, 'sleep', '3600',
  ]);

  // A dry run over every test project (safe: it removes nothing) names ours and not the user's.
  const dry = await reap('--dry-run');
  for (const [kind, id] of [['services', service], ['secrets', secret], ['configs', config], ['networks', net]] as const) {
    assert.match(dry, new RegExp(`swarm ${kind}: would remove .*${id.slice(0, 12)}`), `${kind} in:\n${dry}`);
  }
  assert.ok(!dry.includes(theirs.slice(0, 12)), `the user's secret is listed:\n${dry}`);

  const out = await reap(runId);
  assert.match(out, /swarm services: removed 1 of 1/, out);
  for (const [kind, id] of [['service', service], ['secret', secret], ['config', config]] as const) assert.equal(await exists(kind, id), false, `${kind} left:\n${out}`);
  // The node lets go of an overlay a moment after the manager answered its removal.
  await until('the overlay to be gone', 30_000, async () => ((await exists('network', net)) ? undefined : true), 250);
  assert.equal(await exists('secret', theirs), true, 'the user’s secret stays');
});
