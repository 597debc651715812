// The real pull path (dockerode adapter → Engine 20.10 → docker-registry on 127.0.0.1): layer progress, the engine's
// failure forms (HTTP status and errorDetail) as typed errors, a refused port, a silent registry bounded by the stall
// timer, and an abort that ends the pull quietly. Images are labelled with the run and removed in after().

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cleanup, newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../../test/helpers/docker.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { startRegistry, type TestRegistry } from '../../test/helpers/registry.ts';
import type { PullProgress } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { createDockerEngine } from './dockerode-engine.ts';

await dockerTestFile();

const runId = newRunId('enginepull');
const engine = createDockerEngine();
let registry: TestRegistry | undefined;
let ref = '';
let work = '';
const silent = new Set<net.Socket>();
let silentServer: net.Server | undefined;

async function collect(it: AsyncIterable<PullProgress>): Promise<PullProgress[]> {
  const out: PullProgress[] = [];
  for await (const p of it) out.push(p);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<CmeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CmeshError, `expected CmeshError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected ${code}`);
}

before(async () => {
  await requireDocker();
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'cm-enginepull-'));
  ref = `${registry.host}/cmesh-test/${runId}:v1`;
  await mkdir(join(work, 'ctx'));
  await writeFile(
    join(work, 'ctx', 'Dockerfile'),
    `FROM cmesh/busybox:local\nLABEL ${TEST_LABEL}=true ${RUN_LABEL}=${runId}\nRUN echo ${runId} > /id\n`,
  );
  await run(['build', '-q', '-t', ref, join(work, 'ctx')], { timeoutMs: 120_000 });
  await run(['push', ref], { timeoutMs: 60_000 });
  await run(['rmi', ref]);
});

after(async () => {
  for (const s of silent) s.destroy();
  await new Promise<void>((resolve) => (silentServer ? silentServer.close(() => resolve()) : resolve()));
  await run(['rmi', '-f', ref]).catch(() => undefined);
  await cleanup(runId).catch(() => undefined);
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('a pull streams layer progress and leaves the image local', { timeout: 60_000 }, async () => {
  const progress = await collect(engine.pullImage({ ref }));
  assert.ok(progress.some((p) => p.kind === 'layer' && p.status === 'Pull complete'), JSON.stringify(progress));
  assert.ok(progress.some((p) => p.kind === 'status' && /Downloaded newer image/.test(p.text)));
  assert.ok(await engine.inspectImage(ref));
});

test('a wrong tag and a wrong repository are CMESH_E_IMAGE_NOT_FOUND naming the image', { timeout: 30_000 }, async () => {
  const nope = `${registry!.host}/cmesh-test/${runId}:nope`;
  const e = await rejectsWith(collect(engine.pullImage({ ref: nope })), 'CMESH_E_IMAGE_NOT_FOUND', /:nope was not found/);
  assert.equal(e.details.image, nope);
  await rejectsWith(collect(engine.pullImage({ ref: `${registry!.host}/cmesh-test/absent-${runId}:v1` })), 'CMESH_E_IMAGE_NOT_FOUND');
});

test('a refused port is an unreachable registry (CMESH_E_PULL_FAILED, reason unreachable)', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const e = await rejectsWith(collect(engine.pullImage({ ref: `127.0.0.1:${port}/x:1` })), 'CMESH_E_PULL_FAILED', /could not be reached.*connection refused/);
  assert.equal(e.details.reason, 'unreachable');
});

test('a registry that accepts and never answers is cut by the stall bound; an abort ends a pull quietly', { timeout: 60_000 }, async () => {
  silentServer = net.createServer((s) => {
    silent.add(s);
    s.on('close', () => silent.delete(s));
  });
  await new Promise<void>((resolve) => silentServer!.listen(0, '127.0.0.1', resolve));
  const port = (silentServer.address() as net.AddressInfo).port;
  const started = Date.now();
  await rejectsWith(collect(engine.pullImage({ ref: `127.0.0.1:${port}/x:1`, stallMs: 1500 })), 'CMESH_E_PULL_FAILED', /no answer .* for 2 s/);
  const took = Date.now() - started;
  assert.ok(took >= 1400 && took < 10_000, `bounded near the stall time (took ${took} ms)`);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const items = await collect(engine.pullImage({ ref: `127.0.0.1:${port}/y:1`, signal: ac.signal }));
  assert.deepEqual(items, []);
});
