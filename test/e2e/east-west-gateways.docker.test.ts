// East-west with two TCP services on the same container port: each gets a gateway of its own and answers for itself
// by name. Both are postgres-like greeters that declare no port in the compose file: the mesh knows 5432 only from
// the image's EXPOSE (read at up). Adopted after a daemon SIGKILL, removed by `down`. Gateway image cleanup on the
// daemon's first east-west up, limited to this run's images (the engine is shared). Traffic only to containers on the
// network this test created.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, newCmeshCli, projectContainers, until } from '../helpers/cmesh-cli.ts';
import { buildFixtureImage, newRunId, requireDocker, run, testLabels, dockerTestFile } from '../helpers/docker.ts';
import { aliasesOf as aliasesOn, type Call, eastWestCaller, gatewayIds, PER_PROJECT_GATEWAYS, runningIds as serviceIds, tcpCalls } from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('ewgws');
const project = runId;
const network = `${project}_default`;
let cli: CmeshCli | undefined;
/** Gateway-like images this run makes: a stale one (removed by the cleanup), one a container uses, one unlabelled. */
const stale = `cmesh/gateway:stale-${runId}`;
const used = `cmesh/gateway:used-${runId}`;
const unlabelled = `cmesh/gateway:unlabelled-${runId}`;

const caller = eastWestCaller(runId, network);
const greetings = async (host: string, n: number) => (await caller(tcpCalls(host, 5432, n))) as Call[];
const gateways = () => gatewayIds(project);
const aliasesOf = (container: string) => aliasesOn(container, network);
const runningIds = (service: string) => serviceIds(cli!, service);

/** Waits until all `n` calls to `host` succeed and every one of `want` answered (health may still be rising). */
function allAnswer(host: string, want: string[], n = 20) {
  return until(`${host} answered by ${want.join(', ')}`, 30_000, async () => {
    const calls = await greetings(host, n);
    const by = new Set(calls.map((c) => c.by));
    return calls.every((c) => c.echo === 'ECHO PING') && want.every((id) => by.has(id)) ? calls : undefined;
  }, 500);
}

before(async () => {
  await requireDocker();
  const greeter = await buildFixtureImage('greeter');
  // Only images with this run's label are the daemon's to clean up: other runs on this engine keep theirs.
  // No grace period: the stale image was built a moment ago (a daemon keeps a younger one, gateway-image-gc.ts).
  cli = await newCmeshCli({ ...PER_PROJECT_GATEWAYS, CMESH_GATEWAY_IMAGE_GC: `dev.cmesh.test-run=${runId}`, CMESH_GATEWAY_IMAGE_GRACE: '0s' });
  const ctx = join(cli.work, 'stale-image');
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM cmesh/busybox:local\n');
  const test = Object.entries(testLabels(runId)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const role = ['--label', 'dev.cmesh.managed=true', '--label', 'dev.cmesh.role=gateway-image'];
  await run(['build', '-q', '-t', used, ...test, ...role, ctx]);
  // Another image (a tag of the used one would stay with it: an image a container uses is kept whole).
  await writeFile(join(ctx, 'Dockerfile'), 'FROM cmesh/busybox:local\nLABEL stale=yes\n');
  await run(['build', '-q', '-t', stale, ...test, ...role, ctx]);
  await run(['build', '-q', '-t', unlabelled, ...test, '--label', 'unlabelled=yes', ctx]);
  // A stopped container (never started) keeps `used`: the engine refuses to remove an image in use.
  await run(['create', '--name', `${runId}-holds-image`, ...test, used, 'true']);
  const health = 'x-cmesh: { health: { interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }';
  // No ports, no expose, no x-cmesh.ports: 5432 comes from the greeter image's EXPOSE.
  const compose = `name: ${project}
x-cmesh:
  east_west: true
services:
  pg-main:
    image: ${greeter}
    deploy: { replicas: 2 }
    ${health}
${serviceLabels(runId)}  pg-replica:
    image: ${greeter}
    ${health}
${serviceLabels(runId)}`;
  await writeFile(join(cli.work, 'compose.yaml'), compose);
});

after(async () => {
  await cli?.teardown(project, runId);
});

test('two TCP services on 5432 known only from EXPOSE: a gateway each, each name answers for its own service', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const gws = await gateways();
  assert.deepEqual(Object.keys(gws).sort(), [`${project}-cmesh-gateway`, `${project}-cmesh-gateway-2`]);
  // Each gateway carries exactly one of the two names; the replicas carry neither.
  assert.deepEqual((await aliasesOf(`${project}-cmesh-gateway`)).filter((a) => a.startsWith('pg-')), ['pg-main']);
  assert.deepEqual((await aliasesOf(`${project}-cmesh-gateway-2`)).filter((a) => a.startsWith('pg-')), ['pg-replica']);
  const replicas = (await cli!.ps()).filter((r) => r.service.startsWith('pg-'));
  assert.equal(replicas.length, 3);
  for (const r of replicas) assert.deepEqual((await aliasesOf(r.container)).filter((a) => a.startsWith('pg-')), [], r.name);

  const main = await runningIds('pg-main');
  const replica = await runningIds('pg-replica');
  assert.equal(main.length, 2);
  assert.equal(replica.length, 1);
  const mainCalls = await allAnswer('pg-main', main);
  assert.ok(mainCalls.every((c) => main.includes(c.by!)), `pg-main answered only by its replicas: ${JSON.stringify(mainCalls.slice(0, 3))}`);
  const replicaCalls = await allAnswer('pg-replica', replica);
  assert.ok(replicaCalls.every((c) => c.by === replica[0]), 'pg-replica answered only by its replica');

  // Both went through a gateway, per connection: the service table lists 5432/tcp from EXPOSE and counts them.
  const rows = JSON.parse((await cli!.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  for (const service of ['pg-main', 'pg-replica']) {
    assert.deepEqual(rows.find((r) => r.service === service)?.eastWest?.ports, [{ port: 5432, protocol: 'tcp' }], service);
  }
  await until('both gateways report their connections', 10_000, async () => {
    const now = JSON.parse((await cli!.ok(['services', '--json'])).stdout) as ServiceTableRow[];
    const count = (s: string) => now.find((r) => r.service === s)?.replicas.reduce((n, r) => n + (r.eastWest?.requests ?? 0), 0) ?? 0;
    return count('pg-main') >= 20 && count('pg-replica') >= 20 ? true : undefined;
  }, 250);
});

test('gateway image cleanup: a stale labelled image goes; one a container uses and an unlabelled one stay', async () => {
  // `stale` goes; `used` stays because a container (created, never started) was made from it.
  const present = async (ref: string) => (await run(['image', 'ls', '-q', ref])) !== '';
  await until(`${stale} removed by the daemon`, 15_000, async () => ((await present(stale)) ? undefined : true), 250);
  assert.ok(await present(used), 'the image a container uses stays');
  assert.ok(await present(unlabelled), 'an image without dev.cmesh.role=gateway-image stays');
  const current = JSON.parse(await run(['inspect', '--format', '{{json .Config.Image}}', `${project}-cmesh-gateway`])) as string;
  assert.ok(await present(current), 'the current gateway image stays');
});

test('both gateways are adopted after a daemon SIGKILL, and down removes both', async () => {
  const before = await gateways();
  await cli!.killDaemon();
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60'], 120_000);
  assert.deepEqual(await gateways(), before, 'the same two gateway containers, adopted');
  await allAnswer('pg-replica', await runningIds('pg-replica'), 5);
  await cli!.ok(['down'], 120_000);
  assert.deepEqual(await gateways(), {});
  assert.deepEqual(await projectContainers(project), []);
});
