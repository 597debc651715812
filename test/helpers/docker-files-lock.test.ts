// Every docker test file holds the engine lock (engine-lock.ts) before its first engine call: shared through
// dockerTestFile(), or exclusively through swarmTestFile() for a file that toggles swarm mode (moby#45144: swarm init and
// leave break DNS on bridge networks for other runs' containers). A file taking it lazily (at its first docker CLI call)
// or not at all could run beside a swarm file; this scan keeps a new file from doing so.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './docker.ts';

/** The lock's statement: at the top level (column 0), awaited. */
const TAKES_LOCK = /^(?:const \w+ = )?await (?:dockerTestFile|swarmTestFile)\(/;
/** Top-level statements (column 0; a hook's body runs later) that may reach the engine or start tests before the lock. */
const TOO_EARLY = /^(?:test|describe|it|suite|before|beforeEach)\(|\bawait\b/;

/** Why `source` (a docker test file) does not hold the engine lock before its first engine call; undefined when it does. */
export function lockViolation(source: string): string | undefined {
  const lines = source.split('\n');
  const at = lines.findIndex((l) => TAKES_LOCK.test(l));
  if (at < 0) return 'takes no engine lock: add `await dockerTestFile();` (test/helpers/docker.ts) after its imports';
  const early = lines.slice(0, at).findIndex((l) => /^[^\s/}]/.test(l) && !l.startsWith('import ') && TOO_EARLY.test(l));
  if (early >= 0) return `line ${early + 1} (\`${lines[early]!.trim()}\`) runs before the engine lock is held (line ${at + 1})`;
  return undefined;
}

test('every *.docker.test.ts the docker tier runs holds the engine lock before anything else runs', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/run-tests.mjs'), 'docker', '--list'], { cwd: ROOT });
  const files = stdout.split('\n').filter((f) => f !== '');
  assert.ok(files.length > 40 && files.every((f) => f.endsWith('.docker.test.ts')), `the docker tier's files: ${files.length}`);
  const bad: string[] = [];
  for (const f of files) {
    const why = lockViolation(await readFile(join(ROOT, f), 'utf8'));
    if (why !== undefined) bad.push(`${f}: ${why}`);
  }
  assert.deepEqual(bad, []);
});

test('the scan tells a file without the lock, or with a test or engine call before it, from one that holds it first', () => {
  const imports = "import { test } from 'node:test';\nimport { dockerTestFile, run } from '../helpers/docker.ts';\n";
  assert.equal(lockViolation(`${imports}\nawait dockerTestFile();\n\ntest('x', async () => { await run(['ps']); });\n`), undefined);
  assert.equal(lockViolation(`${imports}const runIds: string[] = [];\nafter(async () => {\n  await run(['rm', 'x']);\n});\nconst session = await swarmTestFile(runIds);\n`), undefined);
  assert.match(lockViolation(`${imports}\nbefore(requireDocker);\ntest('x', () => {});\n`)!, /takes no engine lock/);
  assert.match(lockViolation(`${imports}\nconst id = await run(['create', 'x']);\nawait dockerTestFile();\n`)!, /line 4 .* runs before the engine lock/);
  assert.match(lockViolation(`${imports}\ntest('x', () => {});\nawait dockerTestFile();\n`)!, /line 4 .* runs before/);
  assert.match(lockViolation(`${imports}\n  await dockerTestFile();\n`)!, /takes no engine lock/, 'inside a function it is not the file');
});
