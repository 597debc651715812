// The swarm target on a real single-node swarm: the test joins the engine to a swarm only when it is in none, and
// leaves it again in `after` (only if it did the init). Everything it creates carries the run labels and is removed
// by run id, also on failure. Docker test files run one at a time, so the other swarm files (swarm-*.docker.test.ts)
// never share the swarm with this one.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDockerSwarm } from '../../daemon/engine/dockerode-swarm.ts';
import { swarmContract } from '../../daemon/engine/swarm-contract.ts';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerImage, ReplicaProcesses, ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, ensureBaseImages, newRunId, ROOT, run, testLabels } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';
import { failed, summary } from '../helpers/load.ts';
import { cleanupSwarm, ECHO_IMAGE, echoWeb, hits, serviceImage, swarmObjectsOf, swarmTestFile, taskHostnames, taskStates, teardownSwarmProject, underLoad, untilServedBy } from '../helpers/swarm.ts';

const runIds: string[] = [];
const session = await swarmTestFile(runIds);

if (session.skip !== undefined) {
  test('swarm target', { skip: session.skip }, () => {});
} else {
  swarmContract('DockerodeSwarm on a single-node swarm', async () => {
    await ensureBaseImages();
    const runId = newRunId('swarmcontract');
    runIds.push(runId);
    return {
      swarm: createDockerSwarm(),
      // By ID: Swarm would try a registry pull of a tag at every task start.
      imageId: await run(['image', 'inspect', '--format', '{{.Id}}', 'cmesh/busybox:local']),
      project: runId,
      labels: testLabels(runId),
      settleMs: 60_000,
      cleanup: () => cleanupSwarm(runId),
    };
  });
}

if (session.skip === undefined) {
  // One flow of 11 steps; at load 30–40 (a shared 2-core host) it took ~450 s, so the budget is 600 s.
  describe('cmesh up --target swarm on a single-node swarm', { timeout: 600_000 }, () => {
    const runId = newRunId('swarm');
    const project = runId;
    let cli: CmeshCli;
    let port = 0;
    let since = '';

    before(async () => {
      runIds.push(runId);
      await buildFixtureImage('echo');
      cli = await newCmeshCli({ SWARM_TOKEN: 's3cret' });
      port = await freePort();
      await cli.writeCompose(
        project,
        echoWeb(port, 3, runId, '    secrets: [token]\n    configs: [greeting]\n') +
          `x-cmesh: { target: swarm }
secrets:
  token: { environment: SWARM_TOKEN }
configs:
  greeting: { content: "hello from cmesh" }
`,
      );
      since = String(Math.floor(Date.now() / 1000));
    });

    after(() => teardownSwarmProject(cli, project, runId));

    test('up --target swarm -d --wait: 3 healthy tasks of the image by ID, no pull; 30 requests reach all 3', async () => {
      const tagged = () => run(['image', 'inspect', '--format', '{{.Id}}', ECHO_IMAGE]);
      // Other runs on this engine rebuild the fixture tag: the ID it named when up resolved it is one of these two.
      const atStart = await tagged();
      await cli.ok(['up', '--target', 'swarm', '-d', '--wait', '--timeout', '120'], 180_000);
      const image = await serviceImage(`${project}_web`);
      assert.match(image, /^sha256:[0-9a-f]{64}$/);
      assert.ok([atStart, await tagged()].includes(image), `${image}: the ID ${ECHO_IMAGE} named during up`);
      // The engine is shared: other runs' pulls show up too, so only pulls of this image count.
      const pulls = await run(['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'type=image', '--filter', 'event=pull', '--format', '{{.Actor.ID}}']);
      assert.deepEqual(pulls.split('\n').filter((ref) => ref.includes('cmesh-fixture/echo') || ref.includes(image.slice('sha256:'.length, 19))), [], 'no pull of the image');
      const rows = await cli.ps();
      assert.deepEqual(rows.map((r) => [r.service, r.state, r.health]), [['web', 'running', 'healthy'], ['web', 'running', 'healthy'], ['web', 'running', 'healthy']]);
      assert.equal((await swarmObjectsOf('secret', project)).length, 1);
      assert.equal((await swarmObjectsOf('config', project)).length, 1);
      const { servedBy, failed } = await hits(port, 30);
      assert.equal(failed, 0);
      assert.deepEqual([...new Set(servedBy)].sort(), await taskHostnames(`${project}_web`));
      assert.equal(new Set(servedBy).size, 3, 'all 3 tasks served');
      // `services` reads the same pool: one row for web, its 3 tasks routable behind the published port.
      const table = JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
      const web = table.find((row) => row.service === 'web');
      assert.equal(web?.replicas.filter((r) => r.routable).length, 3, JSON.stringify(table));
    });

    test('kill -9 of one task container under load: 0 failed requests, Swarm replaces the task', async () => {
      const before = await taskHostnames(`${project}_web`);
      const victim = before[0]!;
      // GETs of the echo fixture, which answers in one write: a kill cuts no response halfway (see underLoad).
      const outcomes = await underLoad(port, async () => {
        await run(['kill', '-s', 'KILL', victim]);
        // Swarm waits its restart delay (5 s) before the replacement; on a loaded host its start takes a while more.
        await until('Swarm to replace the killed task', 90_000, async () => {
          const now = await taskHostnames(`${project}_web`);
          return now.length === 3 && !now.includes(victim) ? true : undefined;
        }, 250).catch(async (error: Error) => {
          throw new Error(`${error.message}; tasks:\n${await taskStates(`${project}_web`)}`);
        });
      });
      console.log(`# swarm kill -9 under GET load: ${summary(outcomes)}`);
      assert.deepEqual(failed(outcomes), [], summary(outcomes));
      assert.ok(outcomes.length > 50, summary(outcomes));
      // The replacement serves once the mesh has seen it and its probes pass.
      const now = await taskHostnames(`${project}_web`);
      // The replacement's node starts, then the mesh's probes must pass: slow on a loaded host.
      await untilServedBy(port, now, 'the replacement task to serve', 45_000);
    });

    test('a start-first rolling update under load (a changed environment): 0 failed requests, all tasks replaced', async () => {
      const before = await taskHostnames(`${project}_web`);
      const compose = join(cli.work, 'compose.yaml');
      await writeFile(compose, (await readFile(compose, 'utf8')).replace('SHUTDOWN_GRACE_MS: "2000" }', 'SHUTDOWN_GRACE_MS: "2000", VERSION: "2" }'));
      const outcomes = await underLoad(port, async () => {
        await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
        await until('every old task to be gone', 60_000, async () => {
          const now = await taskHostnames(`${project}_web`);
          return now.length === 3 && now.every((h) => !before.includes(h)) ? true : undefined;
        }, 250);
      });
      console.log(`# swarm rolling update under GET load: ${summary(outcomes)}`);
      assert.deepEqual(failed(outcomes), [], summary(outcomes));
      const env = await run(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}', `${project}_web`]);
      assert.ok((JSON.parse(env) as string[]).includes('VERSION=2'), env);
      const { bodies } = await hits(port, 6);
      assert.deepEqual([...new Set(bodies.map((b) => (JSON.parse(b) as { version: string | null }).version))], ['2'], 'the new tasks serve');
    });

    test('restart replaces every task (rolling, start-first) and returns once the new ones are ready', async () => {
      const before = await taskHostnames(`${project}_web`);
      await cli.ok(['restart', 'web'], 180_000);
      const after = await taskHostnames(`${project}_web`);
      assert.equal(after.length, 3);
      assert.ok(after.every((h) => !before.includes(h)), `${before} → ${after}`);
    });

    test('a restarted daemon adopts the services: same tasks, the published port serves again', async () => {
      const before = await taskHostnames(`${project}_web`);
      await cli.killDaemon();
      const rows = await cli.ps(); // autostarts a fresh daemon; -a also lists the tasks shut down earlier
      assert.deepEqual(rows.filter((r) => r.state === 'running').map((r) => r.container.slice(0, 12)).sort(), before);
      assert.ok(rows.filter((r) => r.state !== 'running').every((r) => r.state === 'exited'), JSON.stringify(rows.map((r) => r.state)));
      await untilServedBy(port, before, 'the published port to serve all 3 tasks again', 30_000);
      assert.deepEqual(await taskHostnames(`${project}_web`), before, 'nothing was redeployed');
    });

    test('scale web=2: two tasks remain and the proxy balances over exactly those', async () => {
      await cli.ok(['scale', 'web=2', '--wait']);
      const left = await until('2 running task containers', 60_000, async () => {
        const h = await taskHostnames(`${project}_web`);
        return h.length === 2 ? h : undefined;
      }, 250);
      // The mesh follows the task list within its observe interval.
      await untilServedBy(port, left, 'the pool to follow the scale-down', 15_000, { n: 12, noFailures: true });
    });

    test('logs prints every task’s lines; logs -f picks up a task started later', async () => {
      const now = await taskHostnames(`${project}_web`);
      const once = await cli.ok(['logs', 'web']);
      for (const h of now) assert.match(once.stdout, new RegExp(`echo\\[${h}\\] listening`));
      const follow = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'logs', '-f', '--tail', '0', 'web'], { cwd: cli.work, env: cli.env() });
      let out = '';
      follow.stdout.on('data', (d) => (out += d));
      try {
        await sleep(1500);
        await cli.ok(['scale', 'web=3', '--wait']);
        const added = await until('a third task', 60_000, async () => {
          const h = (await taskHostnames(`${project}_web`)).filter((x) => !now.includes(x));
          return h.length === 1 ? h[0] : undefined;
        }, 250);
        await until('the new task’s first line in logs -f', 15_000, async () => (out.includes(`echo[${added}] listening`) ? true : undefined), 100);
        for (const h of now) assert.ok(!out.includes(`echo[${h}] listening`), '--tail 0: old lines are not repeated');
      } finally {
        follow.kill('SIGINT');
      }
    });

    test('port, top and images act on the tasks; pause is refused with Swarm’s reason and the alternative, run as not yet', async () => {
      assert.equal((await cli.ok(['port', 'web', '3000'])).stdout.trim(), `127.0.0.1:${port}`);
      const hosts = await taskHostnames(`${project}_web`);
      const top = JSON.parse((await cli.ok(['top', '--json', 'web'])).stdout) as ReplicaProcesses[];
      assert.deepEqual(top.map((r) => r.container.slice(0, 12)).sort(), hosts);
      assert.ok(top.every((r) => r.processes.some((p) => p.join(' ').includes('server.mjs'))), JSON.stringify(top));
      const images = JSON.parse((await cli.ok(['images', '--json'])).stdout) as ContainerImage[];
      // What the service runs (the shared base tag may have moved on since the deploy).
      const id = await serviceImage(`${project}_web`);
      assert.deepEqual(images.map((i) => [i.service, i.id]), hosts.map(() => ['web', id]));
      const r = await cli.cmesh(['pause']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /CMESH_E_TARGET_UNSUPPORTED.*`cmesh pause` is not available on the swarm target.*no paused task state/);
      assert.match(r.stderr, /cmesh stop <service>/);
      const oneOff = await cli.cmesh(['run', '--rm', '-T', 'web', 'hostname']);
      assert.equal(oneOff.code, 2, oneOff.stderr);
      assert.match(oneOff.stderr, /CMESH_E_TARGET_UNSUPPORTED.*`cmesh run` is not supported yet on the swarm target/);
    });

    test('stop scales to 0 (the port then has no task), start brings the 3 tasks back healthy and serving', async () => {
      await cli.ok(['stop', 'web'], 120_000);
      assert.deepEqual(await taskHostnames(`${project}_web`), []);
      assert.equal((await run(['service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', `${project}_web`])), '0');
      assert.equal((await hits(port, 3)).failed, 3, 'no task behind the published port');
      await cli.ok(['start', 'web'], 180_000);
      const rows = await cli.ps();
      assert.deepEqual(rows.filter((x) => x.state === 'running').map((x) => x.health), ['healthy', 'healthy', 'healthy']);
      const now = await taskHostnames(`${project}_web`);
      await untilServedBy(port, now, 'the 3 new tasks to serve', 20_000);
    });

    test('cmesh kill delivers the signal to every task; Swarm replaces them (a kill is not a stop here)', async () => {
      const before = await taskHostnames(`${project}_web`);
      const r = await cli.ok(['kill', '-s', 'SIGKILL', 'web']);
      assert.equal(r.stderr.match(/Killed \(SIGKILL\)/g)?.length, 3, r.stderr);
      await until('Swarm to replace the 3 killed tasks', 90_000, async () => {
        const now = await taskHostnames(`${project}_web`);
        return now.length === 3 && now.every((h) => !before.includes(h)) ? true : undefined;
      }, 500);
    });

    test('down leaves no services, networks, secrets or configs of the project', async () => {
      await cli.ok(['down'], 120_000);
      for (const kind of ['service', 'network', 'secret', 'config'] as const) assert.deepEqual(await swarmObjectsOf(kind, project), [], kind);
    });
  });
}
