// watchProject against a real temp dir: real fs events, bounded waits, coalescing, rules, and no leaked watchers.

import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTree, tempDir } from '../../builder/testing.ts';
import { type ChangeBatch, DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_WAIT_MS, watchProject } from '../../builder/watch.ts';
import { combineActions } from '../../builder/watch-rules.ts';
import { project, svc } from '../../daemon/reconcile/testing.ts';

const cleanups: (() => Promise<void>)[] = [];
after(() => Promise.all(cleanups.map((c) => c())));

async function temp(): Promise<string> {
  const t = await tempDir('cm-watch-');
  cleanups.push(t[Symbol.asyncDispose]);
  return t.path;
}

/** Collects batches; `next()` waits (bounded) for the next one. */
function collector() {
  const batches: ChangeBatch[] = [];
  const waiters: (() => void)[] = [];
  return {
    batches,
    onChange: (b: ChangeBatch) => {
      batches.push(b);
      for (const w of waiters.splice(0)) w();
    },
    async next(count = 1, timeoutMs = 5_000): Promise<ChangeBatch[]> {
      const deadline = Date.now() + timeoutMs;
      while (batches.length < count) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${count} batch(es); got ${JSON.stringify(batches)}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(100)]);
      }
      return batches;
    },
  };
}

const build = (context: string, dockerfile = 'Dockerfile') => ({ context, dockerfile, args: {}, labels: {} });

test('default rule: any context change is one coalesced rebuild; .dockerignore, .git and node_modules are skipped', async () => {
  const dir = await temp();
  await makeTree(dir, [
    ['Dockerfile', 'FROM scratch\n'],
    ['.dockerignore', '*.log\n'],
    ['src/a.js', '1'],
    ['node_modules/x/i.js', '1'],
    ['.git/HEAD', 'ref'],
  ]);
  const c = collector();
  const ac = new AbortController();
  const w = await watchProject({ project: project('p', [svc('web', { build: build(dir) })]), onChange: c.onChange, signal: ac.signal, debounceMs: 100 });
  try {
    await writeFile(join(dir, 'debug.log'), 'x');
    await writeFile(join(dir, 'node_modules/x/i.js'), '2');
    await writeFile(join(dir, '.git/HEAD'), 'ref2');
    await sleep(50);
    await writeFile(join(dir, 'src/a.js'), '2');
    await writeFile(join(dir, 'src/b.js'), 'new');
    const [batch] = await c.next();
    assert.equal(batch!.service, 'web');
    assert.equal(batch!.action, 'rebuild');
    assert.deepEqual(batch!.files.map((f) => [f.path, f.kind]).sort(), [
      [join(dir, 'src/a.js'), 'change'],
      [join(dir, 'src/b.js'), 'add'],
    ]);
    await sleep(400);
    assert.equal(c.batches.length, 1, 'one burst, one batch; ignored files never produce one');
  } finally {
    ac.abort();
    await w.closed;
  }
});

test('the Dockerfile triggers a rebuild even when .dockerignore excludes it', async () => {
  const dir = await temp();
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['.dockerignore', '*\n!app.js\n'], ['app.js', '1'], ['other.txt', 'x']]);
  const c = collector();
  const ac = new AbortController();
  const w = await watchProject({ project: project('p', [svc('web', { build: build(dir) })]), onChange: c.onChange, signal: ac.signal, debounceMs: 80 });
  try {
    await writeFile(join(dir, 'other.txt'), 'y');
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nENV A=1\n');
    const [batch] = await c.next();
    assert.deepEqual(batch!.files.map((f) => f.path), [join(dir, 'Dockerfile')]);
  } finally {
    ac.abort();
    await w.closed;
  }
});

test('develop.watch rules: sync maps container paths, ignore applies, rebuild wins over sync', async () => {
  const dir = await temp();
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['src/a.js', '1'], ['src/a.test.js', '1'], ['package.json', '{}']]);
  const web = svc('web', {
    build: build(dir),
    watch: [
      { action: 'sync', path: join(dir, 'src'), target: '/app/src', ignore: ['*.test.js'] },
      { action: 'rebuild', path: join(dir, 'package.json'), ignore: [] },
    ],
  });
  const c = collector();
  const ac = new AbortController();
  const w = await watchProject({ project: project('p', [web]), onChange: c.onChange, signal: ac.signal, debounceMs: 100 });
  try {
    await writeFile(join(dir, 'src/a.test.js'), '2');
    await writeFile(join(dir, 'src/a.js'), '2');
    const [sync] = await c.next();
    assert.equal(sync!.action, 'sync');
    assert.deepEqual(sync!.files, [{ path: join(dir, 'src/a.js'), kind: 'change', containerPath: '/app/src/a.js' }]);

    await mkdir(join(dir, 'src/sub'));
    await writeFile(join(dir, 'src/sub/b.js'), '1');
    await writeFile(join(dir, 'package.json'), '{"a":1}');
    const batches = await c.next(2);
    assert.equal(batches[1]!.action, 'rebuild');
    assert.deepEqual(batches[1]!.files.map((f) => f.path).sort(), [join(dir, 'package.json'), join(dir, 'src/sub/b.js')]);

    await rm(join(dir, 'src/a.js'));
    const del = (await c.next(3))[2]!;
    assert.deepEqual(del.files, [{ path: join(dir, 'src/a.js'), kind: 'unlink', containerPath: '/app/src/a.js' }]);
  } finally {
    ac.abort();
    await w.closed;
  }
});

test('a slow onChange never overlaps itself: later events become the next batch', async () => {
  const dir = await temp();
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['a.txt', '1']]);
  let running = 0;
  let maxRunning = 0;
  const c = collector();
  const ac = new AbortController();
  const w = await watchProject({
    project: project('p', [svc('web', { build: build(dir) })]),
    onChange: async (b) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      c.onChange(b);
      await sleep(300);
      running--;
    },
    signal: ac.signal,
    debounceMs: 50,
  });
  try {
    await writeFile(join(dir, 'a.txt'), '2');
    await c.next(1);
    await writeFile(join(dir, 'b.txt'), '1');
    await c.next(2);
    assert.equal(maxRunning, 1);
    assert.deepEqual(c.batches[1]!.files.map((f) => f.kind), ['add']);
  } finally {
    ac.abort();
    await w.closed;
  }
});

test('defaults: a save is flushed after 100 ms of quiet; a burst that never goes quiet is flushed 200 ms in', async () => {
  assert.equal(DEFAULT_DEBOUNCE_MS, 100);
  assert.equal(DEFAULT_MAX_WAIT_MS, 200);
  const dir = await temp();
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n']]);
  const c = collector();
  const at: number[] = [];
  const ac = new AbortController();
  const w = await watchProject({
    project: project('p', [svc('web', { build: build(dir) })]),
    onChange: (b) => {
      at.push(Date.now());
      c.onChange(b);
    },
    signal: ac.signal,
  });
  try {
    // A file every 40 ms for ~800 ms: never 100 ms of quiet, so only the cap flushes before the end.
    const started = Date.now();
    const names: string[] = [];
    for (let i = 0; i < 20; i++) {
      names.push(join(dir, `f${String(i).padStart(2, '0')}.txt`));
      await writeFile(names.at(-1)!, String(i));
      await sleep(40);
    }
    const writesDone = Date.now();
    await sleep(400);
    assert.ok(c.batches.length >= 2, `the cap split the burst (${c.batches.length} batch(es))`);
    assert.ok(at[0]! < writesDone, 'the first batch came while events kept coming');
    assert.ok(at[0]! - started < 700, `first batch ${at[0]! - started} ms after the first write`);
    // Nothing lost or duplicated across the batches.
    assert.deepEqual(c.batches.flatMap((b) => b.files.map((f) => f.path)).sort(), names);
  } finally {
    ac.abort();
    await w.closed;
  }
});

test('abort closes everything: no batch after close, even with a pending debounce', async () => {
  const dir = await temp();
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n']]);
  const c = collector();
  const ac = new AbortController();
  const w = await watchProject({ project: project('p', [svc('web', { build: build(dir) })]), onChange: c.onChange, signal: ac.signal, debounceMs: 300 });
  await writeFile(join(dir, 'x.txt'), '1');
  await sleep(150);
  ac.abort();
  await w.closed;
  await writeFile(join(dir, 'y.txt'), '1');
  await sleep(500);
  assert.equal(c.batches.length, 0);
  // An already-aborted signal returns a closed watcher right away.
  const w2 = await watchProject({ project: project('p', [svc('web', { build: build(dir) })]), onChange: c.onChange, signal: AbortSignal.abort() });
  await w2.closed;
});

test('services without build or watch rules are not watched', async () => {
  const ac = new AbortController();
  const w = await watchProject({ project: project('p', [svc('db')]), onChange: () => {}, signal: ac.signal });
  assert.deepEqual(w.paths, []);
  ac.abort();
  await w.closed;
});

test('combineActions: rebuild wins, sync and restart merge', () => {
  assert.equal(combineActions('sync', 'rebuild'), 'rebuild');
  assert.equal(combineActions('rebuild', 'sync+restart'), 'rebuild');
  assert.equal(combineActions('sync', 'restart'), 'sync+restart');
  assert.equal(combineActions('sync', 'sync+restart'), 'sync+restart');
  assert.equal(combineActions('restart', 'restart'), 'restart');
  assert.equal(combineActions('sync', 'sync+exec'), 'sync+exec');
  assert.equal(combineActions(undefined, 'sync'), 'sync');
});
