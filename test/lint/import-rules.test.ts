// The import-rule check of `npm run lint` (`npm run lint:imports`: dependency-cruiser with .dependency-cruiser.cjs),
// run on scratch copies of the tracked tree: it must see every source file (a parser it cannot load analyses 0 modules
// and reports nothing) and every import the compiler sees (type-only ones included), pass on the tree as it is and
// fail on each kind of planted violation.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));


interface Cruise {
  modules: { source: string; dependencies: { resolved: string }[] }[];
  summary: {
    totalCruised: number;
    violations: { rule: { name: string }; from: string; to: string; cycle?: ({ name: string } | string)[] }[];
  };
}

function trackedFiles(): string[] {
  const out = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)) && lstatSync(join(ROOT, f)).isFile());
}

const scratch: string[] = [];

/** The tracked tree (as it is on disk) in a fresh directory, sharing node_modules. */
function scratchCopy(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-import-rules-'));
  scratch.push(dir); // removed in after(), even if copying fails half-way
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dir, 'node_modules'));
  return dir;
}

type Run = { status: number | null; stdout: string; stderr: string };

async function run(cwd: string, cmd: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, { cwd, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { status: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Exactly what `npm run lint` runs for imports, plus extra depcruise arguments. */
function lintImports(cwd: string, extra: string[] = []): Promise<Run> {
  return run(cwd, 'npm', ['run', '--silent', 'lint:imports', ...(extra.length ? ['--', ...extra] : [])]);
}

/** importer -> imported, as the TypeScript compiler resolves the tree (`tsc --explainFiles`). */
async function compilerImports(cwd: string): Promise<Set<string>> {
  const res = await run(cwd, join(cwd, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', '.', '--explainFiles']);
  assert.equal(res.status, 0, res.stdout.slice(-2000));
  const edges = new Set<string>();
  let file = '';
  for (const line of res.stdout.split('\n')) {
    if (!line.startsWith(' ')) file = line.trim();
    const via = /^\s+Imported via .* from file '([^']+)'/.exec(line);
    if (via) edges.add(`${via[1]} -> ${file}`);
  }
  return edges;
}

/** One of each violation the rules forbid, type-only variants included. */
function plantViolations(dir: string): void {
  const plant = (file: string, text: string) => writeFileSync(join(dir, file), text);
  plant('cli/planted-cycle-a.ts', "import { b } from './planted-cycle-b.ts';\nexport const a = (): number => b() + 1;\n");
  plant('cli/planted-cycle-b.ts', "import { a } from './planted-cycle-a.ts';\nexport const b = (): number => a() - 1;\n");
  plant('mesh/planted-type-a.ts', "import type { B } from './planted-type-b.ts';\nexport interface A { b?: B }\n");
  plant('mesh/planted-type-b.ts', "import type { A } from './planted-type-a.ts';\nexport interface B { a?: A }\n");
  plant(
    'mesh/planted-layer.ts',
    "import type { ProjectManagerOptions } from '../daemon/projects.ts';\nexport type O = ProjectManagerOptions;\n",
  );
  plant('builder/planted-docker.ts', "import Docker from 'dockerode';\nexport const docker = new Docker();\n");
  plant('test/helpers/planted-docker.ts', "import type Docker from 'dockerode';\nexport type D = Docker;\n");
  plant('daemon/api/planted-contract.ts', "import type { ServicePool } from '../../mesh/pool.ts';\nexport type P = ServicePool;\n");
  plant('cli/planted-unresolvable.ts', "export { gone } from './planted-missing.ts';\n");
  plant('cli/planted-daemon.ts', "import { ProjectManager } from '../daemon/projects.ts';\nexport const M = ProjectManager;\n");
  plant('daemon/export/planted-daemon.ts', "import type { ProjectManager } from '../projects.ts';\nexport type M = ProjectManager;\n");
  plant('daemon/export/planted-cli.ts', "import { renderError } from '../../cli/render-error.ts';\nexport const r = renderError;\n");
}

const cycleMembers = (v: Cruise['summary']['violations'][number]): string[] =>
  [v.from, ...(v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name))];

let files: string[];
// The three runs are started together (each takes seconds on a loaded machine) and awaited by the tests.
let clean: Promise<[Run, Set<string>]>;
let planted: Promise<Run>;

before(() => {
  files = trackedFiles();
  const cleanDir = scratchCopy(files);
  const plantedDir = scratchCopy(files);
  plantViolations(plantedDir);
  clean = Promise.all([lintImports(cleanDir, ['--output-type', 'json']), compilerImports(cleanDir)]);
  planted = lintImports(plantedDir);
  // Awaited in the tests; this only keeps an early failure from being reported as unhandled.
  clean.catch(() => {});
  planted.catch(() => {});
});

after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

test('the check sees every tracked .ts/.tsx file and every import the compiler sees, and passes on the tree', async () => {
  const [res, compiler] = await clean;
  assert.ok(res.stdout.startsWith('{'), `${res.stdout.slice(0, 200)}${res.stderr}`);
  const cruise = JSON.parse(res.stdout) as Cruise;

  const sources = new Set(files.filter((f) => /\.tsx?$/.test(f)));
  const cruised = new Set(cruise.modules.map((m) => m.source));
  assert.deepEqual(
    [...sources].filter((f) => !cruised.has(f)),
    [],
    'every tracked TypeScript file is parsed',
  );
  assert.ok(cruise.summary.totalCruised >= sources.size, `${cruise.summary.totalCruised} modules cruised`);

  const seen = new Set(cruise.modules.flatMap((m) => m.dependencies.map((d) => `${m.source} -> ${d.resolved}`)));
  const between = [...compiler].filter((e) => e.split(' -> ').every((f) => sources.has(f)));
  // Sanity: the compiler's view is not empty and holds a type-only import (state.ts's only use of events.ts).
  assert.ok(between.includes('cli/tui/state.ts -> daemon/api/events.ts'), `${between.length} compiler imports`);
  assert.deepEqual(
    between.filter((e) => !seen.has(e)),
    [],
    'imports the compiler sees but the check does not (an inline `import("x").T` type is one: use `import type`)',
  );

  assert.deepEqual(
    cruise.summary.violations.map((v) => `${v.rule.name}: ${cycleMembers(v).join(' -> ')} (to ${v.to})`),
    [],
  );
});

test('the check fails on a planted cycle (also type-only) and on each forbidden import', async () => {
  const res = await planted;
  const out = res.stdout;
  assert.notEqual(res.status, 0, `${out}${res.stderr}`);
  const cycle = (x: string) =>
    new RegExp(`error no-circular: ${x}-[ab]\\.ts → \\s+${x}-[ab]\\.ts →\\s+${x}-[ab]\\.ts\\n`.replaceAll('/', '\\/'));
  assert.match(out, cycle('cli/planted-cycle'));
  assert.match(out, cycle('mesh/planted-type'));
  assert.match(out, /error builder-mesh-only-daemon-api: mesh\/planted-layer\.ts → daemon\/projects\.ts\n/);
  assert.match(out, /error dockerode-only-in-engine: builder\/planted-docker\.ts → \S*node_modules\/dockerode\//);
  assert.match(out, /error dockerode-only-in-engine: test\/helpers\/planted-docker\.ts → \S*node_modules\/dockerode\//);
  assert.match(out, /error contract-is-self-contained: daemon\/api\/planted-contract\.ts → mesh\/pool\.ts\n/);
  assert.match(out, /error cli-only-daemon-api-config-export: cli\/planted-daemon\.ts → daemon\/projects\.ts\n/);
  assert.match(out, /error export-only-daemon-api-and-config: daemon\/export\/planted-daemon\.ts → daemon\/projects\.ts\n/);
  assert.match(out, /error export-only-daemon-api-and-config: daemon\/export\/planted-cli\.ts → cli\/render-error\.ts\n/);
  assert.match(out, /error not-to-unresolvable: cli\/planted-unresolvable\.ts → \.\/planted-missing\.ts\n/);
});
