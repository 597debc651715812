// Volumes on the swarm target, on a real single-node swarm: a named volume outlives its tasks and a `down`, a bind
// (read-only) shows a host file, a missing bind source is created, tmpfs mounts from `volumes:` and `tmpfs:` carry
// their size and mode, and `down -v` removes the volume. The test joins the engine to a swarm only when it is in
// none and leaves it again (only if it did the init); everything it creates is labelled and removed, also on failure.

import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, run } from '../helpers/docker.ts';
import { composeTestLabels, swarmObjectsOf, swarmTestFile, taskHostnames, teardownSwarmProject } from '../helpers/swarm.ts';

const runId = newRunId('swarmvol');
const project = runId;
const session = await swarmTestFile([runId]);

if (session.skip !== undefined) test('swarm target: volumes', { skip: session.skip }, () => {});
else {
  describe('volumes, binds and tmpfs on the swarm target', { timeout: 300_000 }, () => {
    let cli: CmeshCli;
    const labels = composeTestLabels(runId);
    const volumeName = `${project}_data`;
    /** Runs `sh -c script` in the one task container of the service (on this node). */
    const inTask = async (script: string): Promise<string> => {
      const [task] = await taskHostnames(`${project}_store`);
      assert.ok(task, 'a running task');
      return run(['exec', task, 'sh', '-c', script]);
    };
    const volumeExists = () => run(['volume', 'inspect', '--format', '{{.Name}}', volumeName]).then(() => true, () => false);
    const up = () => cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);

    before(async () => {
      await ensureBaseImages();
      cli = await newCmeshCli();
      await mkdir(join(cli.work, 'conf'));
      await writeFile(join(cli.work, 'conf', 'greeting'), 'hello from the host\n');
      await cli.writeCompose(
        project,
        `  store:
    image: cmesh/busybox:local
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    volumes:
      - data:/data
      - ./conf:/conf:ro
      - ./made:/made
      - { type: tmpfs, target: /scratch, tmpfs: { size: 1m } }
    tmpfs: ["/run/app:size=2m,mode=0700"]
    labels: ${labels}
volumes:
  data: { labels: ${labels} }
networks:
  default: { labels: ${labels} }
x-cmesh: { target: swarm }
`,
      );
    });

    after(async () => {
      try {
        await teardownSwarmProject(cli, project, runId);
      } finally {
        await run(['volume', 'rm', volumeName]).catch(() => undefined);
      }
    });

    test('the mounts reach the task: bind read-only, a missing bind source created, tmpfs size and mode', async () => {
      const r = await up();
      assert.doesNotMatch(r.stderr, /volumes|tmpfs/, 'no mount is warned about');
      assert.equal(await inTask('cat /conf/greeting'), 'hello from the host');
      assert.match(await inTask('touch /conf/x 2>&1 || echo refused'), /Read-only file system|refused/);
      assert.ok((await stat(join(cli.work, 'made'))).isDirectory(), 'the bind source was created on this node');
      const mounts = await inTask('cat /proc/mounts');
      assert.match(mounts, /^tmpfs \/scratch tmpfs [^ ]*size=1024k/m, mounts);
      assert.match(mounts, /^tmpfs \/run\/app tmpfs [^ ]*size=2048k[^ ]*mode=700/m, mounts);
      const spec = JSON.parse(await run(['volume', 'inspect', volumeName])) as { Labels: Record<string, string> }[];
      assert.equal(spec[0]?.Labels['dev.cmesh.project'], project);
      assert.equal(spec[0]?.Labels['dev.cmesh.volume'], 'data');
    });

    test('the named volume outlives a replaced task and a down; down -v removes it', async () => {
      await inTask('echo kept > /data/marker');
      const [first] = await taskHostnames(`${project}_store`);
      await run(['kill', '-s', 'KILL', first!]);
      await until('Swarm to replace the task', 60_000, async () => {
        const now = await taskHostnames(`${project}_store`);
        return now.length === 1 && now[0] !== first ? true : undefined;
      }, 250);
      assert.equal(await inTask('cat /data/marker'), 'kept');
      await cli.ok(['down'], 120_000);
      assert.deepEqual(await swarmObjectsOf('service', project), []);
      assert.equal(await volumeExists(), true, 'down keeps the volume');
      await up();
      assert.equal(await inTask('cat /data/marker'), 'kept');
      await cli.ok(['down', '-v'], 120_000);
      assert.equal(await volumeExists(), false, 'down -v removed it');
    });
  });
}
