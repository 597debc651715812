// `up`'s pulls through ensureImages against the fake engine's registry: each pull_policy, dedup and concurrency,
// credentials, platform, the unreachable and stalled registry, and builds that a pull replaces or falls back to.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PullOptions } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ServiceSpec } from './api/project.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { ensureImages } from './images.ts';
import { DAY_MS } from './pull-policy.ts';
import { MemoryPullTimes } from './pull-state.ts';
import { project, svc } from './reconcile/testing.ts';

const REG = '127.0.0.1:5999';
let dir: string;
let emptyConfig: string;
let ctx: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-pull-'));
  emptyConfig = join(dir, 'empty');
  ctx = join(dir, 'ctx');
  await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(emptyConfig), fs.mkdir(ctx)]));
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\n');
});
after(() => rm(dir, { recursive: true, force: true }));

function up(engine: FakeEngine, services: ServiceSpec[], extra: Partial<Parameters<typeof ensureImages>[0]> = {}) {
  const events: DaemonEvent[] = [];
  const spec = project('p', services);
  const run = ensureImages({
    engine,
    project: spec,
    services: services.map((s) => s.name),
    build: 'auto',
    emit: (e) => events.push(e),
    auth: { configDir: emptyConfig },
    ...extra,
  });
  return { run, events };
}

const pullsOf = (engine: FakeEngine) => engine.registry.pulls.map((p) => p.ref);
const code = (c: string, pattern?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof CmeshError, String(e));
  assert.equal(e.code, c, e.message);
  if (pattern) assert.match(e.message, pattern);
  return true;
};

test('missing (the default) pulls an absent image once, with start/done events; present images are not pulled', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/team/db:16`);
  const db = svc('db', { image: `${REG}/team/db:16` });
  const first = up(engine, [db]);
  await first.run;
  assert.deepEqual(pullsOf(engine), [`${REG}/team/db:16`]);
  assert.ok(await engine.inspectImage(`${REG}/team/db:16`), 'the pulled image is local');
  const phases = first.events.filter((e) => e.type === 'pull').map((e) => (e.type === 'pull' ? `${e.service}:${e.phase}` : ''));
  assert.equal(phases[0], 'db:start');
  assert.equal(phases.at(-1), 'db:done');
  await up(engine, [db]).run;
  await up(engine, [svc('db', { image: `${REG}/team/db:16`, pullPolicy: 'missing' })]).run;
  assert.equal(engine.registry.pulls.length, 1, 'present: no second pull');
});

test('never refuses a missing image with a hint and pulls nothing; always pulls on every up', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/x:1`);
  const never = svc('web', { image: `${REG}/x:1`, pullPolicy: 'never' });
  await assert.rejects(up(engine, [never]).run, (e: unknown) => {
    code('CMESH_E_IMAGE_MISSING', /service "web"/)(e);
    assert.match((e as CmeshError).hint ?? '', /pull_policy: never/);
    return true;
  });
  assert.equal(engine.registry.pulls.length, 0);
  const always = svc('web', { image: `${REG}/x:1`, pullPolicy: 'always' });
  await up(engine, [always]).run;
  await up(engine, [always]).run;
  assert.equal(engine.registry.pulls.length, 2);
  await up(engine, [never]).run;
  assert.equal(engine.registry.pulls.length, 2, 'never is fine once the image is local');
});

test('a wrong tag fails naming the service and the image (CMESH_E_IMAGE_NOT_FOUND, exit 7)', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/x:1`);
  await assert.rejects(up(engine, [svc('api', { image: `${REG}/x:nope` })]).run, (e: unknown) => {
    code('CMESH_E_IMAGE_NOT_FOUND', /service "api": image 127\.0\.0\.1:5999\/x:nope was not found/)(e);
    assert.equal((e as CmeshError).exitCode, 7);
    assert.equal((e as CmeshError).details.service, 'api');
    return true;
  });
});

test('daily pulls when cmesh has no record or the last pull is a day old, not in between', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/d:1`);
  const times = new MemoryPullTimes();
  let now = 1_000_000;
  const s = svc('d', { image: `${REG}/d:1`, pullPolicy: 'daily' });
  const opts = { pullTimes: times, now: () => now };
  await up(engine, [s], opts).run;
  assert.equal(times.times.get(`${REG}/d:1`), now, 'the pull time is recorded');
  now += DAY_MS - 1;
  await up(engine, [s], opts).run;
  assert.equal(engine.registry.pulls.length, 1, 'within the day: the local image serves');
  now += 1;
  await up(engine, [s], opts).run;
  assert.equal(engine.registry.pulls.length, 2, 'a day later: pulled again');
  await up(engine, [svc('d', { image: `${REG}/d:1`, pullPolicy: 'every_30m' })], { ...opts, now: () => now + 1_800_000 }).run;
  assert.equal(engine.registry.pulls.length, 3, 'every_30m: due after 30 minutes');
});

test('one pull per image for two services; distinct images pull concurrently', async () => {
  const engine = new FakeEngine({ strictImages: true });
  for (const r of ['a', 'b', 'c']) engine.registry.add(`${REG}/${r}:1`);
  let inFlight = 0;
  let peak = 0;
  const real = engine.registry.pull.bind(engine.registry);
  engine.registry.pull = async function* (options: PullOptions, store: (ref: string) => void) {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 20));
    try {
      yield* real(options, store);
    } finally {
      inFlight--;
    }
  };
  const services = [
    svc('a1', { image: `${REG}/a:1` }),
    svc('a2', { image: `${REG}/a:1` }),
    svc('b', { image: `${REG}/b:1` }),
    svc('c', { image: `${REG}/c:1` }),
  ];
  const { run, events } = up(engine, services);
  await run;
  assert.deepEqual(pullsOf(engine).sort(), [`${REG}/a:1`, `${REG}/b:1`, `${REG}/c:1`]);
  assert.equal(peak, 3, 'the three images were in flight at once');
  assert.ok(events.some((e) => e.type === 'pull' && e.service === 'a2' && e.phase === 'done' && /with service a1/.test(e.text ?? '')));
});

test('credentials from the Docker config are sent; without them the pull is CMESH_E_PULL_UNAUTHORIZED', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/private:1`);
  engine.registry.requireAuth(REG, 'alice', 's3cret');
  const s = svc('priv', { image: `${REG}/private:1` });
  await assert.rejects(up(engine, [s]).run, code('CMESH_E_PULL_UNAUTHORIZED', /service "priv".*no basic auth credentials/));
  const withCreds = join(dir, 'creds');
  await import('node:fs/promises').then((fs) => fs.mkdir(withCreds));
  const auth = Buffer.from('alice:s3cret').toString('base64');
  await writeFile(join(withCreds, 'config.json'), JSON.stringify({ auths: { [REG]: { auth } } }));
  await up(engine, [s], { auth: { configDir: withCreds } }).run;
  assert.equal(engine.registry.pulls.at(-1)?.authFor, REG);
  await writeFile(join(withCreds, 'config.json'), JSON.stringify({ auths: { [REG]: { username: 'alice', password: 'wrong' } } }));
  engine.registry.remove(`${REG}/private:1`);
  engine.registry.add(`${REG}/private:2`);
  await assert.rejects(up(engine, [svc('priv', { image: `${REG}/private:2` })], { auth: { configDir: withCreds } }).run, code('CMESH_E_PULL_UNAUTHORIZED', /authentication required/));
});

test('platform is passed to the pull; an image without that platform fails clearly', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/multi:1`, { platforms: ['linux/amd64', 'linux/arm64'] });
  await up(engine, [svc('m', { image: `${REG}/multi:1`, platform: 'linux/arm64' })]).run;
  assert.equal(engine.registry.pulls[0]?.platform, 'linux/arm64');
  await assert.rejects(
    up(engine, [svc('m', { image: `${REG}/multi:1`, platform: 'linux/s390x', pullPolicy: 'always' })]).run,
    code('CMESH_E_PULL_FAILED', /no variant for the requested platform/),
  );
});

test('no registry reachable: a missing image is still CMESH_E_IMAGE_MISSING (with the reason); a silent one is bounded', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.setOffline('docker.io');
  await assert.rejects(up(engine, [svc('db', { image: 'postgres:16' })]).run, (e: unknown) => {
    code('CMESH_E_IMAGE_MISSING', /postgres:16 for service "db" is not present locally and its registry could not be reached: .*connection refused/)(e);
    return true;
  });
  engine.registry.setHanging('docker.io');
  const started = Date.now();
  await assert.rejects(up(engine, [svc('db', { image: 'postgres:16' })], { pullStallMs: 50 }).run, code('CMESH_E_IMAGE_MISSING', /i\/o timeout/));
  assert.ok(Date.now() - started < 5000, 'the stall bound ends the pull');
  engine.addImage('postgres:16');
  await assert.rejects(
    up(engine, [svc('db', { image: 'postgres:16', pullPolicy: 'always' })], { pullStallMs: 50 }).run,
    code('CMESH_E_PULL_FAILED', /could not be reached/),
  );
});

test('build services: always pulls image: instead of building, falls back to the build; pull_policy build always builds', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const build = { context: ctx, dockerfile: 'Dockerfile', args: {}, labels: {} };
  engine.registry.add(`${REG}/app:1`);
  const pulled = await up(engine, [svc('app', { image: `${REG}/app:1`, build, pullPolicy: 'always' })]).run;
  assert.equal(pulled.services['app']?.image, `${REG}/app:1`);
  assert.equal(engine.callsOf('buildImage').length, 0, 'the pulled image serves');
  engine.registry.remove(`${REG}/app:1`);
  const built = await up(engine, [svc('app', { image: `${REG}/app:1`, build, pullPolicy: 'always' })]).run;
  assert.match(built.services['app']?.image ?? '', /^p-app:[0-9a-f]{12}$/);
  assert.equal(engine.callsOf('buildImage').length, 1, 'a failed pull falls back to the build');
  const plain = svc('app', { image: undefined, build });
  await up(engine, [plain]).run;
  assert.equal(engine.callsOf('buildImage').length, 1, 'unchanged context, default policy: cached');
  await up(engine, [{ ...plain, pullPolicy: 'build' }]).run;
  assert.equal(engine.callsOf('buildImage').length, 2, 'pull_policy build: built again');
  assert.equal(engine.registry.pulls.length, 2, 'build-only services never pull');
});

test('pulls overlap with builds: a pull still in flight while the build runs', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.registry.add(`${REG}/db:1`);
  let buildStarted!: () => void;
  const building = new Promise<void>((resolve) => (buildStarted = resolve));
  const realBuild = engine.buildImage.bind(engine);
  engine.buildImage = (options) => {
    buildStarted();
    return realBuild(options);
  };
  const realPull = engine.registry.pull.bind(engine.registry);
  engine.registry.pull = async function* (options: PullOptions, store: (ref: string) => void) {
    // Sequential pulls-then-builds (or builds-then-pulls) would never get past this line: bounded so it fails, not hangs.
    await Promise.race([building, new Promise((_, reject) => setTimeout(() => reject(new Error('the build never started during the pull')), 2000))]);
    yield* realPull(options, store);
  };
  const build = { context: ctx, dockerfile: 'Dockerfile', args: {}, labels: {} };
  const out = await up(engine, [svc('db', { image: `${REG}/db:1` }), svc('web', { image: undefined, build })]).run;
  assert.equal(out.services['db']?.image, `${REG}/db:1`);
  assert.match(out.services['web']?.image ?? '', /^p-web:/);
});

test('at most DEFAULT_PULL_CONCURRENCY (4) images in flight; the rest wait their turn', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  for (const r of names) engine.registry.add(`${REG}/${r}:1`);
  let inFlight = 0;
  let peak = 0;
  const real = engine.registry.pull.bind(engine.registry);
  engine.registry.pull = async function* (options: PullOptions, store: (ref: string) => void) {
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      yield* real(options, store);
    } finally {
      inFlight--;
    }
  };
  await up(engine, names.map((n) => svc(n, { image: `${REG}/${n}:1` }))).run;
  assert.equal(engine.registry.pulls.length, names.length);
  assert.equal(peak, 4);
});
