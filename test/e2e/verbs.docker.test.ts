// The Compose verbs pause, unpause, kill, port, top and images through the real `cmesh` binary, its daemon and the
// real engine. What cmesh says is checked against what Docker says (`docker inspect`, `docker port`, `docker top`,
// `docker image inspect`), and the HTTP answer through the mesh proxy, so the test does not trust what it checks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ContainerImage, ReplicaProcesses, ServiceTableRow } from '../../daemon/api/control.ts';
import { ExitCode } from '../../daemon/api/errors.ts';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { freePort } from '../helpers/free-port.ts';
import { expectedReach } from '../helpers/replica-reach.ts';

await dockerTestFile();

const runId = newRunId('verbs');
const project = runId;
let cli: CmeshCli;
let published = 0;

const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;
// web: busybox httpd behind the mesh, a shell that says when it gets SIGHUP, and `sleep` to idle.
const webCommand = "mkdir -p /www && echo ok > /www/index.html && httpd -p 8080 -h /www && trap 'echo got-hup' HUP && while true; do sleep 1; done";

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  published = await freePort();
  await cli.writeCompose(
    project,
    `  web:
    image: cmesh/busybox:local
    command: ["sh", "-c", ${JSON.stringify(webCommand)}]
    ports: ["127.0.0.1:${published}:8080"]
    deploy: { replicas: 2 }
    stop_grace_period: 1s
${labels}  cache:
    image: cmesh/busybox:local
    # Something must listen on the exposed port for \`up --wait\`'s readiness check; then PID 1 is a plain sleep.
    command: ["sh", "-c", "httpd -p 6379 -h /tmp && exec sleep 300"]
    expose: [6379]
    stop_grace_period: 1s
${labels}`,
  );
  await cli.ok(['up', '--wait', '--timeout', '60'], 120_000);
});

after(async () => {
  await cli?.teardown(project, runId);
});

const replicas = async (service: string): Promise<{ id: string; name: string; state: string }[]> =>
  (await cli.ps()).filter((r) => r.service === service).map((r) => ({ id: r.container, name: r.name, state: r.state }));
const dockerState = async (id: string): Promise<string> => (await run(['inspect', '--format', '{{.State.Status}}', id])).trim();
const webRow = async (): Promise<ServiceTableRow> => {
  const rows = JSON.parse((await cli.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  return rows.find((s) => s.service === 'web')!;
};
const fetchOk = async (): Promise<boolean> => {
  const res = await fetch(`http://127.0.0.1:${published}/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return res?.status === 200 && (await res.text()).trim() === 'ok';
};

test('port: the mesh proxy’s address for a published port, the replica’s own endpoint for an exposed one', async () => {
  assert.equal((await cli.ok(['port', 'web', '8080'])).stdout, `127.0.0.1:${published}\n`);
  await until('the proxy to serve web', 20_000, async () => ((await fetchOk()) ? true : undefined), 200);
  const [cache] = await replicas('cache');
  // Docker's word for where the replica is: its address on the project network (reached directly, nothing
  // published), or its published loopback port.
  const docker =
    (await expectedReach()) === 'direct'
      ? `${(await run(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', cache!.id])).trim()}:6379`
      : (await run(['port', cache!.id, '6379/tcp'])).trim().split('\n')[0];
  assert.equal((await cli.ok(['port', 'cache', '6379'])).stdout.trim(), docker);
  const missing = await cli.cmesh(['port', 'cache', '6380']);
  assert.equal(missing.code, ExitCode.usage, missing.stderr);
  assert.match(missing.stderr, /no port 6380\/tcp/);
  const ghost = await cli.cmesh(['port', 'ghost', '80']);
  assert.equal(ghost.code, ExitCode.notFound, ghost.stderr);
});

test('top: each running replica’s processes, as docker top sees them', async () => {
  const rows = JSON.parse((await cli.ok(['top', 'web', '--json'])).stdout) as ReplicaProcesses[];
  const web = await replicas('web');
  assert.deepEqual(rows.map((r) => r.name), web.map((r) => r.name));
  for (const row of rows) {
    const docker = (await run(['top', row.container, '-o', 'pid'])).split('\n').slice(1).filter(Boolean).map((l) => l.trim());
    const pid = row.titles.indexOf('PID');
    // httpd and sleep are long-lived; the loop's `sleep 1` comes and goes between the two reads.
    assert.ok(row.processes.some((p) => p.join(' ').includes('httpd -p 8080')), JSON.stringify(row.processes));
    assert.ok(row.processes.some((p) => docker.includes(p[pid]!)), `${JSON.stringify(row.processes)} vs docker ${docker}`);
  }
  const text = (await cli.ok(['top', 'cache'])).stdout;
  const [cache] = await replicas('cache');
  assert.match(text, new RegExp(`^${cache!.name}\\nUID +PID +PPID .*CMD\\n.*sleep 300`, 'm'));
});

/** What Docker says a container runs: its image id, that image's first tag split (or <none>) and its size. */
async function dockerImageOf(container: string): Promise<Pick<ContainerImage, 'repository' | 'tag' | 'id' | 'size'>> {
  const id = (await run(['inspect', '--format', '{{.Image}}', container])).trim();
  const [tags, size] = (await run(['image', 'inspect', '--format', '{{json .RepoTags}} {{.Size}}', id])).trim().split(' ');
  const tag = (JSON.parse(tags!) as string[])[0];
  // Other test runs may rebuild the base image meanwhile: then the container's image is untagged, as Compose shows it.
  const [repository, version] = tag ? [tag.slice(0, tag.lastIndexOf(':')), tag.slice(tag.lastIndexOf(':') + 1)] : ['<none>', '<none>'];
  return { repository: repository!, tag: version!, id, size: Number(size) };
}

test('images: repository, tag, id and size of what every container runs; -q and --json', async () => {
  const rows = JSON.parse((await cli.ok(['images', '--json'])).stdout) as ContainerImage[];
  const containers = [...(await replicas('cache')), ...(await replicas('web'))];
  assert.deepEqual(rows.map((r) => r.container), containers.map((r) => r.name));
  for (const [i, r] of rows.entries()) {
    assert.deepEqual({ repository: r.repository, tag: r.tag, id: r.id, size: r.size }, await dockerImageOf(containers[i]!.id));
  }
  const ids = [...new Set(rows.map((r) => r.id.slice(7, 19)))].join('\n');
  assert.equal((await cli.ok(['images', '-q'])).stdout, `${ids}\n`);
  const table = (await cli.ok(['images', 'cache'])).stdout.split('\n');
  const cache = await dockerImageOf(containers[0]!.id);
  assert.match(table[0]!, /^CONTAINER +REPOSITORY +TAG +IMAGE ID +SIZE$/);
  assert.match(table[1]!, new RegExp(`^${containers[0]!.name} +${cache.repository} +${cache.tag} +${cache.id.slice(7, 19)} +[\\d.]+[kMG]?B$`));
  assert.equal(table.length, 3, 'one row and the final newline');
});

test('pause: replicas frozen, not healed, out of the mesh; unpause: back in rotation', async () => {
  const before = await replicas('web');
  const paused = await cli.ok(['pause', 'web']);
  assert.deepEqual(paused.stderr.trim().split('\n'), before.map((r) => `Container ${r.name}  Paused`));
  for (const r of before) assert.equal(await dockerState(r.id), 'paused');
  // Longer than the settle wakes after the engine's pause events: a pass that wanted to heal would have acted.
  await sleep(1500);
  assert.deepEqual(await replicas('web'), before.map((r) => ({ ...r, state: 'paused' })), 'the same containers, still paused');
  assert.equal((await replicas('cache'))[0]?.state, 'running', 'only the named service');
  const row = await webRow();
  assert.deepEqual(row.replicas.map((r) => [r.state, r.routable]), [['paused', false], ['paused', false]]);
  assert.equal(row.ready, 0);

  assert.equal((await cli.ok(['unpause'])).stderr.trim(), before.map((r) => `Container ${r.name}  Unpaused`).join('\n'));
  for (const r of before) assert.equal(await dockerState(r.id), 'running');
  await until('both web replicas routable again', 20_000, async () => ((await webRow()).ready === 2 ? true : undefined), 200);
  assert.ok(await fetchOk(), 'the proxy serves again');
});

test('kill -s SIGHUP is only delivered; kill (SIGKILL) is a stop that the supervisor does not heal, start undoes it', async () => {
  const web = await replicas('web');
  const hup = await cli.ok(['kill', '-s', 'HUP', 'web']);
  assert.deepEqual(hup.stderr.trim().split('\n'), web.map((r) => `Container ${r.name}  Killed (SIGHUP)`));
  for (const r of web) {
    await until(`${r.name} to log got-hup`, 10_000, async () => ((await run(['logs', r.id])).includes('got-hup') ? true : undefined), 100);
    assert.equal(await dockerState(r.id), 'running');
  }
  const bad = await cli.cmesh(['kill', '-s', 'SIGNOPE', 'web']);
  assert.equal(bad.code, ExitCode.usage, bad.stderr);

  const [cache] = await replicas('cache');
  assert.equal((await cli.ok(['kill', 'cache'])).stderr.trim(), `Container ${cache!.name}  Killed (SIGKILL)`);
  assert.equal(await dockerState(cache!.id), 'exited');
  const exitCode = (await run(['inspect', '--format', '{{.State.ExitCode}}', cache!.id])).trim();
  assert.equal(exitCode, '137', 'SIGKILL, not a graceful stop');
  await sleep(2000);
  assert.deepEqual(await replicas('cache'), [{ ...cache!, state: 'exited' }], 'not restarted, not replaced');
  assert.deepEqual((await replicas('web')).map((r) => r.state), ['running', 'running']);

  await cli.ok(['start', 'cache']);
  await until('cache to run again', 20_000, async () => ((await dockerState(cache!.id)) === 'running' ? true : undefined), 100);
});
