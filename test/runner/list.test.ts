// The test runner picks up every test file git tracks: a test that never runs is a defect, not a pass.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../helpers/docker.ts';

function lines(out: string): string[] {
  return out.split('\n').filter((l) => l !== '');
}

test('npm test --silent -- --list names every tracked *.test.ts / *.test.tsx, and nothing else', () => {
  const listed = lines(execFileSync('npm', ['test', '--silent', '--', '--list'], { cwd: ROOT, encoding: 'utf8' }));
  const tracked = lines(execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).replaceAll('\0', '\n'))
    .filter((f) => /\.test\.tsx?$/.test(f))
    .sort();
  assert.ok(tracked.length > 50, `git ls-files found only ${tracked.length} test files`);
  const missing = tracked.filter((f) => !listed.includes(f));
  assert.deepEqual(missing, [], 'tracked test files the runner would never run');
  for (const f of listed) assert.match(f, /\.test\.tsx?$/, `--list printed a line that is not a test file: ${f}`);
  assert.ok(listed.includes('test/fixtures/echo.docker.test.ts'));
});

test('the tiers split the list: unit has no *.docker.test.ts, docker has only those', () => {
  const run = (tier: string) =>
    lines(execFileSync(process.execPath, ['scripts/run-tests.mjs', tier, '--list'], { cwd: ROOT, encoding: 'utf8' }));
  const unit = run('unit');
  const docker = run('docker');
  assert.ok(unit.every((f) => !/\.docker\.test\.tsx?$/.test(f)));
  assert.ok(docker.length > 0 && docker.every((f) => /\.docker\.test\.tsx?$/.test(f)));
  assert.deepEqual([...unit, ...docker].sort(), run('all').sort());
});
