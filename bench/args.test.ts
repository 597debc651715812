// bench/args.ts: the strict command line every bench script parses before it starts anything. Exit codes are the
// contract (2 = refused, 0 = --help), so each case runs the module in a child process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childMode } from './args.ts';

const ARGS_TS = fileURLToPath(new URL('./args.ts', import.meta.url));
const USAGE = 'usage: npx tsx bench/probe.ts [--n N] [--part a|b] [--v8-flags F] [--json]';

/** A probe script: parses argv with benchArgs and prints the values as JSON (it reaches that only if nothing exited). */
function probe(argv: string[], extra = '{}'): { code: number | null; stdout: string; stderr: string } {
  const program = `
    import { benchArgs } from ${JSON.stringify(ARGS_TS)};
    const opts = benchArgs(${JSON.stringify(USAGE)}, {
      n: { type: 'number' }, part: { type: 'string', choices: ['a', 'b'] }, 'v8-flags': { type: 'string' }, json: { type: 'boolean' },
    }, ${extra});
    process.stdout.write(JSON.stringify(opts));`;
  // A file, not `node -e`: under -e, argv has no script path and argv.slice(2) would drop the first flag.
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-args-'));
  try {
    writeFileSync(join(dir, 'probe.mjs'), program);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'probe.mjs'), ...argv], { encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an unknown flag is refused: the message and the usage on stderr, exit 2, nothing run', () => {
  const r = probe(['--json', '--no-such-flag']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--no-such-flag/);
  assert.ok(r.stderr.includes(USAGE));
  assert.equal(r.stdout, '');
});

test('--help prints the usage on stdout and exits 0 before the script runs', () => {
  const r = probe(['--n', '5', '--help']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${USAGE}\n`);
});

test('numbers: a valid one is a number, a bad, negative or missing one is refused with the flag named', () => {
  const ok = probe(['--n', '2.5', '--json']);
  assert.equal(ok.code, 0);
  assert.deepEqual(JSON.parse(ok.stdout), { positionals: [], n: 2.5, json: true });
  for (const bad of [['--n', 'abc'], ['--n', '-1'], ['--n', ''], ['--n=1e999']]) {
    const r = probe(bad);
    assert.equal(r.code, 2, bad.join(' '));
    assert.match(r.stderr, /--n takes a number ≥ 0/);
    assert.ok(r.stderr.includes(USAGE));
  }
  const missing = probe(['--n']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--n/);
});

test('absent flags stay undefined, so each script keeps its own defaults', () => {
  const r = probe([]);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), { positionals: [] });
});

test('a value may start with a dash (--v8-flags "--single-threaded-gc"), as the scripts always took it', () => {
  const r = probe(['--v8-flags', '--single-threaded-gc --max-semi-space-size=1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout)['v8-flags'], '--single-threaded-gc --max-semi-space-size=1');
});

test('choices: a value outside them is refused', () => {
  assert.equal(JSON.parse(probe(['--part', 'b']).stdout).part, 'b');
  const r = probe(['--part', 'c']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--part takes one of a, b, got 'c'/);
});

test('plain arguments: refused unless the script takes them, then exactly that many', () => {
  assert.equal(probe(['stray']).code, 2);
  const two = probe(['/co', '8080'], '{ positionals: 2 }');
  assert.equal(two.code, 0, two.stderr);
  assert.deepEqual(JSON.parse(two.stdout).positionals, ['/co', '8080']);
  const one = probe(['/co'], '{ positionals: 2 }');
  assert.equal(one.code, 2);
  assert.match(one.stderr, /expected 2 argument\(s\), got 1/);
});

test('childMode: only a mode in first place selects it, with the words after it', () => {
  const modes = ['--serve', '--serve-floor'] as const;
  assert.deepEqual(childMode(modes, ['--serve-floor', '9000', '9001']), { mode: '--serve-floor', args: ['9000', '9001'] });
  assert.equal(childMode(modes, ['--json', '--serve', '9000']), undefined);
  assert.equal(childMode(modes, []), undefined);
});

test('no bench script reads process.argv on its own: flags go through bench/args.ts', () => {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  // ew-client.ts's CLIENT is plain node run by `node -e` in a container (argv[1] is its JSON job); proxy-gateway.ts
  // compares argv[1] with its own URL to tell being run from being imported.
  const allowed = /process\.argv\[1\]/;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'args.ts')) {
    for (const line of readFileSync(`${dir}${file}`, 'utf8').split('\n')) {
      if (line.includes('process.argv')) assert.match(line, allowed, `${file}: ${line.trim()}`);
    }
  }
});
