// The swarm target's image paths on a real single-node swarm: `cmesh watch` rolls a rebuild out as a start-first
// service update by the new image ID, and `x-cmesh.registry` pushes images and deploys them by digest. The test joins
// the engine to a swarm only when it is in none and leaves it again (only if it did the init); everything it creates
// carries the run labels and is removed by run id, also on failure.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CmeshCli, newCmeshCli, until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, ROOT, run } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';
import { failed, summary } from '../helpers/load.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { composeTestLabels, hits, serviceImage, swarmObjectsOf, swarmTestFile, teardownSwarmProject, underLoad } from '../helpers/swarm.ts';

const runIds: string[] = [];
const session = await swarmTestFile(runIds);

if (session.skip !== undefined) test('swarm target: watch and registry', { skip: session.skip }, () => {});

if (session.skip === undefined) {
  describe('cmesh watch on the swarm target: a rebuild is a start-first rolling service update', { timeout: 300_000 }, () => {
    const runId = newRunId('swarmwatch');
    const project = runId;
    let cli: CmeshCli;
    let port = 0;

    before(async () => {
      runIds.push(runId);
      await ensureBaseImages();
      cli = await newCmeshCli();
      port = await freePort();
      const app = join(cli.work, 'app');
      await mkdir(app, { recursive: true });
      await writeFile(join(app, 'Dockerfile'), 'FROM cmesh/busybox:local\nCOPY version.txt /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n');
      await writeFile(join(app, 'version.txt'), 'v1\n');
      await cli.writeCompose(
        project,
        `  web:
    build: { context: ./app, labels: ${composeTestLabels(runId)} }
    ports: ["${port}:8080"]
    deploy: { replicas: 2 }
    # A 5 s probe timeout: only a hung probe waits for it (see hostnameWeb in test/helpers/swarm.ts).
    healthcheck: { test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"], interval: 1s, timeout: 5s, retries: 3 }
    labels: ${composeTestLabels(runId)}
x-cmesh: { target: swarm }
`,
      );
    });

    after(() => teardownSwarmProject(cli, project, runId));

    test('an edit under load rolls out by the new image ID with 0 failed requests', async () => {
      await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
      const v1 = await serviceImage(`${project}_web`);
      assert.match(v1, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual([...new Set((await hits(port, 6)).bodies)], ['v1']);
      const watcher = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'watch'], { cwd: cli.work, env: cli.env() });
      let log = '';
      watcher.stderr.on('data', (d) => (log += d));
      try {
        await until('the watcher to start', 30_000, async () => (log.includes('Watching') ? true : undefined), 100);
        const outcomes = await underLoad(port, async () => {
          await writeFile(join(cli.work, 'app', 'version.txt'), 'v2\n');
          await until(`the rollout (watch log: ${log})`, 120_000, async () => (log.includes('rebuilt and rolled out') ? true : undefined), 250);
          await until('every task to serve v2', 60_000, async () => {
            const { bodies, failed: f } = await hits(port, 6);
            return f === 0 && bodies.every((b) => b === 'v2') ? true : undefined;
          }, 250);
        });
        assert.deepEqual(failed(outcomes), [], summary(outcomes));
        const v2 = await serviceImage(`${project}_web`);
        assert.match(v2, /^sha256:[0-9a-f]{64}$/);
        assert.notEqual(v2, v1);
      } finally {
        watcher.kill('SIGINT');
      }
    });
  });
}

if (session.skip === undefined) {
  describe('the swarm target with a registry: images pushed and deployed by digest', { timeout: 300_000 }, () => {
    const runId = newRunId('swarmreg');
    const project = runId;
    let cli: CmeshCli;
    let registry: TestRegistry | undefined;

    before(async () => {
      runIds.push(runId);
      await ensureBaseImages();
      registry = await startRegistry();
      cli = await newCmeshCli();
      await cli.writeCompose(
        project,
        `  web:
    image: cmesh/busybox:local
    command: ["sh", "-c", "exec httpd -f -p 8080 -h /"]
    labels: ${composeTestLabels(runId)}
x-cmesh: { target: swarm, registry: "${registry.host}" }
`,
      );
    });

    after(async () => {
      try {
        await teardownSwarmProject(cli, project, runId);
      } finally {
        // Only the tag this test pushed: the image itself is the shared base image.
        const tags = await run(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${registry?.host}/${project}/web`]).catch(() => '');
        for (const t of tags.split('\n').filter(Boolean)) await run(['rmi', t]).catch(() => undefined);
        await registry?.stop();
      }
    });

    test('up pushes the image to <registry>/<project>/web and the service names it by digest; its task runs', async () => {
      await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
      const image = await serviceImage(`${project}_web`);
      assert.match(image, new RegExp(`^${registry!.host.replace(/\./g, '\\.')}/${project}/web@sha256:[0-9a-f]{64}$`));
      const catalog = (await (await fetch(`http://${registry!.host}/v2/_catalog`)).json()) as { repositories: string[] };
      assert.ok(catalog.repositories.includes(`${project}/web`), JSON.stringify(catalog));
      assert.deepEqual((await cli.ps()).map((r) => [r.service, r.state]), [['web', 'running']]);
      await cli.ok(['down'], 120_000);
      assert.deepEqual(await swarmObjectsOf('service', project), []);
    });
  });
}
