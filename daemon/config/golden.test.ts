// Golden compose models: each fixtures/configs/golden/<case>/ holds compose files written from the Compose spec's
// text (extends, include, interpolation, multi-document and empty override files) and the expected merged tree.
// The tree is compared before normalization, which is what the spec's "results in ... equivalent to" examples show.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseEnvFile } from './env-file.ts';
import { loadComposeModel, loadProjectFromSources, type SourceFile } from './load.ts';
import { toPlain } from './node.ts';
import { FIXTURES } from './test-helpers.ts';

const GOLDEN = join(FIXTURES, 'golden');
const read = (file: string): SourceFile => ({ file, text: readFileSync(file, 'utf8') });

/** Loads a case like `cmesh config` would from its folder; absolute paths into the case print as `<case>`. */
function render(dir: string): string {
  const sources = ['compose.yaml', 'compose.override.yaml'].map((f) => join(dir, f)).filter(existsSync).map(read);
  const envFiles = existsSync(join(dir, '.env')) ? [read(join(dir, '.env'))] : [];
  const processEnv = existsSync(join(dir, 'process.env')) ? Object.fromEntries(parseEnvFile('process.env', readFileSync(join(dir, 'process.env'), 'utf8')).values) : {};
  const opts = { env: processEnv, envFiles, readFile: (f: string) => readFileSync(f, 'utf8') };
  const { model } = loadComposeModel(sources, opts);
  // Every case is a valid project too (what `cmesh config` on the folder would print), not just a mergeable tree.
  assert.ok(loadProjectFromSources(sources, opts).project);
  return stringify(toPlain(model)).replaceAll(dir, '<case>');
}

const cases = readdirSync(GOLDEN);

test('the golden cases are all there', () => {
  for (const c of ['extends-same-file', 'extends-other-file', 'include', 'interpolation', 'multi-document', 'empty-override']) assert.ok(cases.includes(c), c);
});

for (const c of cases) {
  test(`golden model ${c}`, () => {
    const dir = join(GOLDEN, c);
    const expected = readFileSync(join(dir, 'expected.yaml'), 'utf8');
    // Compared as data, so quoting style in expected.yaml is free; key order is part of the contract.
    const actual = render(dir);
    assert.deepEqual(JSON.stringify(parse(actual)), JSON.stringify(parse(expected)), actual);
  });
}
