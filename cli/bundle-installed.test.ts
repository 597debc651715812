// An installed cmesh lives inside a node_modules (npm install -g: <prefix>/lib/node_modules/cmesh): its bundles must
// still give each of its own sources its own import.meta.url (cli/version.ts finds package.json through it), while
// the packages in its node_modules keep theirs as esbuild leaves them. `cmesh --version` failed on every install
// before; bench/RESULTS.md (clifast) has the npm pack + global install check.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBundle } from '../bin/bundle-cache.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const prefix = await mkdtemp(join(tmpdir(), 'cm-installed-'));
after(() => rm(prefix, { recursive: true, force: true }));

test('a package root inside node_modules: its sources keep their own import.meta.url in the bundle', { timeout: 60_000 }, async () => {
  const root = join(prefix, 'lib', 'node_modules', 'cmesh');
  await mkdir(join(root, 'src'), { recursive: true });
  // esbuild is resolved through tsx from the package root: borrow the repo's install.
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  await writeFile(join(root, 'package.json'), '{ "name": "t", "type": "module" }\n');
  await writeFile(join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
  await writeFile(join(root, 'src', 'main.ts'), 'export const here: string = import.meta.url;\n');
  const bundle = await ensureBundle(root, 'installed', join('src', 'main.ts'), [join(prefix, 'cache')]);
  assert.ok(bundle?.path, 'the bundle was built');
  const { here } = (await import(pathToFileURL(bundle.path).href)) as { here: string };
  assert.equal(here, pathToFileURL(join(root, 'src', 'main.ts')).href);
});
