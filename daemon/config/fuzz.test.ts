// Seeded fuzzing of loadProjectFromSources: mutated real files plus generated compose-shaped documents.
// Every outcome must be a project or a CmeshError whose issues all have positions, each within 100 ms.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { CmeshError } from '../api/errors.ts';
import { loadProjectFromSources } from './load.ts';
import { FIXTURES, fixture } from './test-helpers.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

const DOCS = Number(process.env['CMESH_FUZZ_DOCS'] ?? 12_000);
const SEED = Number(process.env['CMESH_FUZZ_SEED'] ?? 0xc0ffee);

const rng = seededRandom;

const TOKENS = [
  ': ', '- ', '[', ']', '{', '}', ', ', '&a ', '*a', '<<: *a', '!reset ', '!override ', '!!str ', '${', '${X:-', '${X:?boom}', '$$',
  '$', '"', "'", '\n', '  ', '\t', '---\n', '? ', '__proto__', 'constructor', '~', 'null', 'true', '-1', '0x10', '1e9', '65536',
  'ports', '"8080:80"', '"1:2:3:4"', 'healthcheck', 'test', 'depends_on', 'condition', 'service_healthy', 'x-cmesh', 'lb', 'ewma',
  'volumes', './a:/a', 'data:/data', 'image', 'build', 'command', 'profiles', 'restart', 'on-failure:x', '1m30s', '%YAML 1.2\n',
  '|\n  block', '>-\n  folded', '#', '\u0000', '\uFEFF', '😀', 'services:\n  s:\n    image: x\n',
];

const KEYS = ['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'deploy', 'scale', 'healthcheck',
  'depends_on', 'restart', 'labels', 'volumes', 'networks', 'working_dir', 'user', 'stop_signal', 'stop_grace_period', 'profiles',
  'develop', 'x-cmesh', 'cap_add', 'replicas', 'test', 'interval', 'context', 'args', 'target', 'published', 'condition', 'lb',
  'health', 'path', 'port', 'weights', 'timeouts', 'action', 'aliases', 'external', 'name', 'driver', 'bogus'];
const SCALARS: unknown[] = ['x', '', '8080:80', '80/udp', './src:/src:ro', 'db', 'web', 'service_healthy', '10s', '1m', 'p2c', 'sync',
  '${VAR}', '${NOPE:?x}', '$$', 'on-failure:2', 'CMD', 'NONE', '/healthz', 0, 1, -5, 3.5, 70000, true, false, null];

function generated(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const value = (depth: number): unknown => {
    const k = r();
    if (depth > 3 || k < 0.5) return pick(SCALARS);
    if (k < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(r() * 5); i > 0; i--) o[pick(KEYS)] = value(depth + 1);
    return o;
  };
  const services: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) services[pick(['web', 'db', 'api', 'w-1', 'Bad Name', '1'])] = value(1);
  const doc: Record<string, unknown> = { services };
  if (r() < 0.3) doc['networks'] = value(2);
  if (r() < 0.3) doc['volumes'] = value(2);
  if (r() < 0.2) doc['x-cmesh'] = { defaults: value(2) };
  if (r() < 0.1) doc['name'] = pick(SCALARS);
  return stringify(doc);
}

function mutate(text: string, r: () => number): string {
  let out = text;
  for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
    const at = Math.floor(r() * (out.length + 1));
    const len = Math.floor(r() * 12);
    switch (Math.floor(r() * 6)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + len);
        break;
      case 1:
        out = out.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + out.slice(at, at + len * 4) + out.slice(at);
        break;
      case 3: {
        const lines = out.split('\n');
        const i = Math.floor(r() * lines.length);
        lines[i] = r() < 0.5 ? ` ${lines[i]}` : (lines[i] ?? '').replace(/^ /, '');
        out = lines.join('\n');
        break;
      }
      case 4:
        out = out.slice(0, at) + String.fromCharCode(32 + Math.floor(r() * 95)) + out.slice(at + 1);
        break;
      default: {
        const lines = out.split('\n');
        const i = Math.floor(r() * lines.length);
        const j = Math.floor(r() * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        out = lines.join('\n');
      }
    }
  }
  return out;
}

test(`fuzz: ${DOCS} generated and mutated documents never crash, hang or lose positions`, () => {
  const corpus = ['real-world', 'bad'].flatMap((d) => readdirSync(`${FIXTURES}${d}`).filter((f) => f.endsWith('.yaml') && !f.includes('bomb') && !f.includes('deep')).map((f) => fixture(`${d}/${f}`).text));
  const r = rng(SEED);
  let max = 0;
  let slowest = '';
  const outcomes = { ok: 0, error: 0 };
  const codes = new Map<string, number>();
  for (let i = 0; i < DOCS; i++) {
    const text = i % 3 === 0 ? generated(r) : mutate(corpus[Math.floor(r() * corpus.length)] ?? '', r);
    // CPU time, not wall time: CI runs this beside Docker tests on 2 cores, and waiting for a core is not the loader's cost.
    const t = process.cpuUsage();
    try {
      loadProjectFromSources([{ file: '/fuzz/compose.yaml', text }], { env: { VAR: 'v', X: '1' } });
      outcomes.ok++;
    } catch (err) {
      if (!(err instanceof CmeshError)) assert.fail(`doc #${i} threw ${String(err)}\n${(err as Error).stack}\n--- doc ---\n${text}`);
      outcomes.error++;
      codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      for (const issue of err.issues) {
        assert.ok(issue.position && issue.position.line >= 1 && issue.position.col >= 1, `doc #${i}: issue without position: ${JSON.stringify(issue)}\n--- doc ---\n${text}`);
      }
    }
    const used = process.cpuUsage(t);
    const dt = (used.user + used.system) / 1000;
    if (dt > max) {
      max = dt;
      slowest = text;
    }
  }
  console.log(`fuzz: ${DOCS} docs, ok=${outcomes.ok} error=${outcomes.error} ${JSON.stringify(Object.fromEntries(codes))} max=${max.toFixed(1)}ms cpu`);
  assert.ok(outcomes.ok > DOCS / 50, 'the fuzzer should also produce valid documents');
  assert.ok(max < 100, `slowest document took ${max.toFixed(1)}ms of CPU:\n${slowest.slice(0, 500)}`);
});

test('fuzz: hostile shapes stay bounded', () => {
  const hostile = [
    '['.repeat(100_000),
    '{'.repeat(100_000),
    `${'- '.repeat(20_000)}x`,
    `a: &a [${'x,'.repeat(1000)}]\n${Array.from({ length: 200 }, (_, i) => `b${i}: *a`).join('\n')}`,
    `services:\n  web:\n    image: "${'${A:-'.repeat(10_000)}"\n`,
    `services:\n  web:\n    image: x\n    command: "${'\\'.repeat(100_000)}"\n`,
    `${'a: 1\n'.repeat(50_000)}`,
    `services:\n${Array.from({ length: 2000 }, (_, i) => `  s${i}:\n    image: x\n    depends_on: [s${(i + 1) % 2000}]`).join('\n')}\n`,
  ];
  for (const text of hostile) {
    // CPU time, not wall time: CI runs this beside Docker tests on 2 cores, and waiting for a core is not the loader's cost.
    const t = process.cpuUsage();
    try {
      loadProjectFromSources([{ file: '/h.yaml', text }]);
    } catch (err) {
      assert.ok(err instanceof CmeshError, String(err));
      assert.ok(err.issues.every((i) => i.position !== undefined));
    }
    const used = process.cpuUsage(t);
    const ms = (used.user + used.system) / 1000;
    assert.ok(ms < 2000, `took ${ms.toFixed(0)}ms of CPU on ${text.slice(0, 40)}`);
  }
});
