// Pulls against a real registry (Debian's docker-registry on 127.0.0.1, one open and one behind htpasswd): `up` pulls
// a pushed-then-removed image, `never` refuses, `always` pulls the new content of a tag, a wrong tag names the service,
// credentials come from the Docker config (auths, then a credential helper) and their absence fails clearly,
// and `cmesh pull` honours --ignore-pull-failures and -q.

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli } from '../helpers/cmesh-cli.ts';
import { cleanup, newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';
import { serviceLabels } from '../helpers/echo-project.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

await dockerTestFile();

const runId = newRunId('pull');
const project = runId;
const AUTH = { username: 'alice', password: 's3cret-pw' };
let open: TestRegistry | undefined;
let locked: TestRegistry | undefined;
let cli: CmeshCli | undefined;
let work: string;
let dockerConfig: string;
let loginConfig: string;
let repo: string;
let lockedRepo: string;
let idA = '';
let idB = '';

/** Builds a labelled image whose content says `content`, tags it `ref`, returns its id. */
async function build(ref: string, content: string): Promise<string> {
  const dir = join(work, `ctx-${content}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'Dockerfile'),
    `FROM cmesh/busybox:local\nLABEL ${TEST_LABEL}=true ${RUN_LABEL}=${runId}\nRUN echo ${content} > /content\nCMD ["sleep", "3600"]\n`,
  );
  await run(['build', '-q', '-t', ref, dir], { timeoutMs: 120_000 });
  return run(['image', 'inspect', '--format', '{{.Id}}', ref]);
}

const localId = (ref: string): Promise<string | undefined> => run(['image', 'inspect', '--format', '{{.Id}}', ref]).catch(() => undefined);

async function compose(): Promise<void> {
  const svc = (name: string, image: string, extra = '') => `  ${name}:\n    image: ${image}\n${extra}${serviceLabels(runId)}`;
  await cli!.writeCompose(
    project,
    [
      svc('app', `${repo}:v1`),
      svc('nv', `${repo}:v2`, '    pull_policy: never\n'),
      svc('al', `${repo}:v1`, '    pull_policy: always\n'),
      svc('bad', `${repo}:nope`),
      svc('priv', `${lockedRepo}:v1`),
    ].join(''),
  );
}

before(async () => {
  await requireDocker();
  work = await mkdtemp(join(tmpdir(), 'cm-pull-e2e-'));
  dockerConfig = join(work, 'docker-config');
  loginConfig = join(work, 'login-config');
  const bin = join(work, 'bin');
  await Promise.all([mkdir(dockerConfig), mkdir(loginConfig), mkdir(bin)]);
  // A credential helper the daemon finds on PATH; it answers for the locked registry only.
  open = await startRegistry();
  locked = await startRegistry({ auth: AUTH });
  await writeFile(
    join(bin, 'docker-credential-cmeshtest'),
    `#!/bin/sh\nread server\n[ "$server" = "${locked.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${locked.host}","Username":"${AUTH.username}","Secret":"${AUTH.password}"}'\n`,
  );
  await chmod(join(bin, 'docker-credential-cmeshtest'), 0o755);
  repo = `${open.host}/cmesh-test/${runId}`;
  lockedRepo = `${locked.host}/cmesh-test/${runId}`;
  cli = await newCmeshCli({ DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env.PATH ?? ''}` });
  await compose();

  // v1 (content A) and v2 in the open registry, v1 in the locked one; none of them left locally.
  idA = await build(`${repo}:v1`, 'a');
  await run(['tag', `${repo}:v1`, `${repo}:v2`]);
  await run(['tag', `${repo}:v1`, `${lockedRepo}:v1`]);
  await run(['push', `${repo}:v1`], { timeoutMs: 60_000 });
  await run(['push', `${repo}:v2`], { timeoutMs: 60_000 });
  await run(['--config', loginConfig, 'login', '-u', AUTH.username, '-p', AUTH.password, locked.host], { timeoutMs: 30_000 });
  await run(['--config', loginConfig, 'push', `${lockedRepo}:v1`], { timeoutMs: 60_000 });
  await run(['rmi', `${repo}:v1`, `${repo}:v2`, `${lockedRepo}:v1`]);
  assert.equal(await localId(`${repo}:v1`), undefined);
});

after(async () => {
  await cli?.teardown(project, runId);
  const refs = (await run(['images', '--format', '{{.Repository}}:{{.Tag}}']).catch(() => ''))
    .split('\n')
    .filter((r) => (open && r.startsWith(`${open.host}/`)) || (locked && r.startsWith(`${locked.host}/`)));
  if (refs.length > 0) await run(['rmi', '-f', ...refs]).catch(() => undefined);
  await cleanup(runId).catch(() => undefined);
  await open?.stop();
  await locked?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('up pulls a missing image from the registry (one line for it) and runs it', { timeout: 120_000 }, async () => {
  const r = await cli!.cmesh(['up', '-d', 'app'], 90_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Pulling app {2}pulled 127\.0\.0\.1:\d+\/cmesh-test\/.*:v1 in /);
  assert.equal(await localId(`${repo}:v1`), idA, 'the pushed image, by id');
  const ps = await cli!.ps();
  assert.ok(ps.some((p) => p.service === 'app' && p.state === 'running'), JSON.stringify(ps));
});

test('pull_policy never refuses a missing image with a clear error and pulls nothing', { timeout: 60_000 }, async () => {
  const r = await cli!.cmesh(['up', '-d', 'nv'], 45_000);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /CMESH_E_IMAGE_MISSING/);
  assert.match(r.stderr, /service "nv"/);
  assert.match(r.stderr, /pull_policy: never/);
  assert.equal(await localId(`${repo}:v2`), undefined, 'nothing was pulled');
});

test('always pulls again: the new content of a tag replaces the local one; missing (default) keeps it', { timeout: 120_000 }, async () => {
  idB = await build(`${repo}:v1`, 'b');
  assert.notEqual(idB, idA);
  await run(['push', `${repo}:v1`], { timeoutMs: 60_000 });
  await run(['tag', idA, `${repo}:v1`]);
  const kept = await cli!.cmesh(['up', '-d', 'app'], 60_000);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(await localId(`${repo}:v1`), idA, 'default policy: the local image is used, no pull');
  const r = await cli!.cmesh(['up', '-d', 'al'], 90_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await localId(`${repo}:v1`), idB, 'always: pulled the registry’s v1');
});

test('a wrong tag fails naming the service and the image (exit 7)', { timeout: 60_000 }, async () => {
  const r = await cli!.cmesh(['up', '-d', 'bad'], 45_000);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /CMESH_E_IMAGE_NOT_FOUND/);
  assert.match(r.stderr, /service "bad": image 127\.0\.0\.1:\d+\/cmesh-test\/\S+:nope was not found/);
});

test('an htpasswd registry: no credentials fail clearly; a Docker config file and a credential helper work', { timeout: 150_000 }, async () => {
  await writeFile(join(dockerConfig, 'config.json'), '{}\n');
  const denied = await cli!.cmesh(['up', '-d', 'priv'], 45_000);
  assert.equal(denied.code, 9, denied.stderr);
  assert.match(denied.stderr, /CMESH_E_PULL_UNAUTHORIZED/);
  assert.match(denied.stderr, /service "priv"/);
  assert.match(denied.stderr, /docker login 127\.0\.0\.1:\d+/);
  assert.doesNotMatch(denied.stderr, new RegExp(AUTH.password));

  // The credential helper named for that registry.
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [locked!.host]: 'cmeshtest' } }));
  const helped = await cli!.cmesh(['up', '-d', 'priv'], 90_000);
  assert.equal(helped.code, 0, helped.stderr);
  assert.ok(await localId(`${lockedRepo}:v1`));

  // The file `docker login` wrote (base64 auths), after the image is gone again.
  await cli!.cmesh(['down'], 60_000);
  await run(['rmi', `${lockedRepo}:v1`]);
  await writeFile(join(dockerConfig, 'config.json'), await import('node:fs/promises').then((fs) => fs.readFile(join(loginConfig, 'config.json'), 'utf8')));
  const fromFile = await cli!.cmesh(['up', '-d', 'priv'], 90_000);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.ok(await localId(`${lockedRepo}:v1`));
  assert.doesNotMatch(fromFile.stderr + fromFile.stdout, new RegExp(AUTH.password));
});

test('cmesh pull: a failure fails the verb, --ignore-pull-failures reports it and exits 0, -q prints nothing', { timeout: 120_000 }, async () => {
  const failed = await cli!.cmesh(['pull', 'bad', 'app'], 60_000);
  assert.equal(failed.code, 7, failed.stderr);
  assert.match(failed.stderr, /service "bad"/);
  const ignored = await cli!.cmesh(['pull', '--ignore-pull-failures', 'bad', 'app', 'nv'], 60_000);
  assert.equal(ignored.code, 0, ignored.stderr);
  assert.match(ignored.stderr, /^app +✔ pulled 127\.0\.0\.1:\d+\/\S+:v1 in /m, 'one line for the pulled image');
  assert.match(ignored.stderr, /^nv +- skipped .*pull_policy: never$/m);
  assert.match(ignored.stderr, /^warning: bad: service "bad": image .*:nope was not found/m);
  const quiet = await cli!.cmesh(['pull', '-q', 'app'], 60_000);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');
});
