// `cmesh run --rm -d` on the real engine, through the real CLI and daemon, like `docker compose run --rm -d`: the
// detached one-off runs, and the engine removes it when it exits; without --rm it stays. The Compose v2 run flags that
// map onto the engine (-l, --cap-add/--cap-drop, --use-aliases, --env-from-file, -P) reach the container, and
// --remove-orphans is refused by name.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli, projectContainers, until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, requireDocker, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('rundetach');
const project = runId;
const IMAGE = 'cmesh/busybox:local';
let cli: CmeshCli;

before(async () => {
  await requireDocker();
  await ensureBaseImages();
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  app:
    image: ${IMAGE}
    command: ["sleep", "300"]
    stop_grace_period: 1s
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
});

after(async () => {
  await cli?.teardown(project, runId);
});

const oneOffs = () => projectContainers(project, ['--filter', 'label=dev.cmesh.oneoff=true']);
const state = async (name: string) => (await run(['inspect', '-f', '{{.State.Status}}', name]).catch(() => 'gone')).trim();

test('run --rm -d: prints the name, runs in the background, and is removed when it exits', { timeout: 120_000 }, async () => {
  const name = `${runId}-auto`;
  const started = await cli.ok(['run', '--rm', '-d', '--name', name, 'app', 'sh', '-c', 'sleep 3; exit 0']);
  assert.equal(started.stdout.trim(), name);
  assert.equal(await state(name), 'running', 'detached: cmesh returned while it runs');
  assert.equal((await run(['inspect', '-f', '{{.HostConfig.AutoRemove}}', name])).trim(), 'true');
  await until('the exited one-off to be removed', 30_000, async () => ((await state(name)) === 'gone' ? true : undefined), 200);
  // A failing one-off goes the same way.
  const failing = `${runId}-fail`;
  await cli.ok(['run', '--rm', '-d', '--name', failing, 'app', 'sh', '-c', 'exit 3']);
  await until('the failed one-off to be removed', 30_000, async () => ((await state(failing)) === 'gone' ? true : undefined), 200);
});

test('run -d without --rm: the exited one-off stays until rm -f', { timeout: 120_000 }, async () => {
  const name = `${runId}-kept`;
  await cli.ok(['run', '-d', '--name', name, 'app', 'sh', '-c', 'exit 0']);
  await until('the one-off to exit', 30_000, async () => ((await state(name)) === 'exited' ? true : undefined), 200);
  assert.equal((await run(['inspect', '-f', '{{.HostConfig.AutoRemove}}', name])).trim(), 'false');
  await cli.ok(['rm', '-f', 'app']);
  assert.equal(await state(name), 'gone');
});

test('the Compose run flags reach the container: -l, --cap-add/--cap-drop, --use-aliases, --env-from-file', { timeout: 120_000 }, async () => {
  await writeFile(join(cli.work, 'job.env'), 'FROM_FILE=yes\nOVERRIDDEN=file\n');
  const name = `${runId}-flags`;
  const argv = ['run', '-d', '--rm', '--name', name, '-l', 'com.example.job=migrate', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN'];
  await cli.ok([...argv, '--use-aliases', '--env-from-file', 'job.env', '-e', 'OVERRIDDEN=flag', 'app', 'sleep', '300']);
  const [info] = JSON.parse(await run(['inspect', name])) as {
    Config: { Labels: Record<string, string>; Env: string[] };
    HostConfig: { CapAdd: string[] | null; CapDrop: string[] | null };
    NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
  }[];
  assert.equal(info?.Config.Labels['com.example.job'], 'migrate');
  assert.equal(info.Config.Labels['dev.cmesh.oneoff'], 'true');
  assert.deepEqual(info.HostConfig.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(info.HostConfig.CapDrop, ['CHOWN']);
  assert.ok(info.Config.Env.includes('FROM_FILE=yes') && info.Config.Env.includes('OVERRIDDEN=flag'), info.Config.Env.join(' '));
  assert.ok(Object.values(info.NetworkSettings.Networks).some((n) => (n.Aliases ?? []).includes('app')), 'the service alias');
  // Stopping it is an exit too: AutoRemove takes it away.
  await run(['stop', '-t', '1', name]);
  await until('the stopped one-off to be removed', 30_000, async () => ((await state(name)) === 'gone' ? true : undefined), 200);
});

test('--remove-orphans is refused by name, with what to run instead', { timeout: 60_000 }, async () => {
  const r = await cli.cmesh(['run', '--remove-orphans', 'app', 'true']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /CMESH_E_USAGE[\s\S]*--remove-orphans[\s\S]*cmesh up --remove-orphans/);
  assert.deepEqual(await oneOffs(), [], 'nothing was created');
});
