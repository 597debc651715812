// develop.watch `include`, `initial_sync` and `exec` against a real temp dir: include narrows what triggers a rule,
// initial_sync sends the rule's whole tree once at start (ignores applied), and a sync+exec batch carries its command.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { initialSyncFiles } from '../../builder/initial-sync.ts';
import { makeTree, tempDir } from '../../builder/testing.ts';
import { type ChangeBatch, watchProject } from '../../builder/watch.ts';
import { compileRules, ruleMatches } from '../../builder/watch-rules.ts';
import type { WatchRule } from '../../daemon/api/project.ts';
import { project, svc } from '../../daemon/reconcile/testing.ts';

const cleanups: (() => Promise<void>)[] = [];
after(() => Promise.all(cleanups.map((c) => c())));

async function temp(): Promise<string> {
  const t = await tempDir('cm-watch-keys-');
  cleanups.push(t[Symbol.asyncDispose]);
  return t.path;
}

const hook = { command: ['kill', '-HUP', '1'], environment: {} };

test('include: only matching paths trigger the rule', async () => {
  const dir = await temp();
  const rule: WatchRule = { action: 'sync', path: dir, target: '/app', ignore: [], include: ['*.js', 'lib/**'] };
  const [compiled] = await compileRules([svc('web', { watch: [rule] })]);
  assert.equal(ruleMatches(compiled!, join(dir, 'a.js')), true);
  assert.equal(ruleMatches(compiled!, join(dir, 'lib/deep/x.txt')), true);
  assert.equal(ruleMatches(compiled!, join(dir, 'README.md')), false);
});

test('initial_sync lists every covered file with its container path, ignores and include applied', async () => {
  const dir = await temp();
  await makeTree(dir, [
    ['src/a.js', '1'],
    ['src/b.log', 'x'],
    ['src/sub/c.js', '2'],
    ['node_modules/dep/i.js', ''],
    ['other.txt', 'o'],
  ]);
  const rule: WatchRule = { action: 'sync', path: dir, target: '/app', ignore: ['**/*.log'], include: ['src/**'], initialSync: true };
  const [compiled] = await compileRules([svc('web', { watch: [rule] })]);
  const files = await initialSyncFiles(compiled!);
  assert.deepEqual(
    files.map((f) => [f.path.slice(dir.length + 1), f.containerPath, f.kind]),
    [
      ['src/a.js', '/app/src/a.js', 'add'],
      ['src/sub/c.js', '/app/src/sub/c.js', 'add'],
    ],
  );
});

test('watchProject sends the initial sync once at start, then sync+exec batches carry the exec command', async () => {
  const dir = await temp();
  await makeTree(dir, [['conf/app.conf', 'v1']]);
  const rule: WatchRule = { action: 'sync+exec', path: join(dir, 'conf'), target: '/etc/app', ignore: [], initialSync: true, exec: hook };
  const batches: ChangeBatch[] = [];
  const ac = new AbortController();
  const watcher = await watchProject({ project: project('p', [svc('web', { watch: [rule] })]), signal: ac.signal, onChange: (b) => void batches.push(b), debounceMs: 50 });
  try {
    assert.deepEqual(batches.map((b) => [b.service, b.action, b.initial, b.files.map((f) => f.containerPath), b.exec]), [
      ['web', 'sync+exec', true, ['/etc/app/app.conf'], hook],
    ]);
    await writeFile(join(dir, 'conf', 'app.conf'), 'v2');
    for (let i = 0; i < 100 && batches.length < 2; i++) await sleep(50);
    assert.equal(batches.length, 2, 'the change arrives as a second batch');
    assert.deepEqual([batches[1]!.action, batches[1]!.initial, batches[1]!.exec], ['sync+exec', undefined, hook]);
  } finally {
    ac.abort();
    await watcher.closed;
  }
});
