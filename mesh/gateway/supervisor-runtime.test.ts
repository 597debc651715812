// The worker's start-up line names the node it runs: through a runtime directory's loader, the loader and the node.
// Checked on the host's own loader too (what `ldd` names for node), which hands node its argv[0] as the worker's does.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { test } from 'node:test';
import { nodeDescription } from './supervisor-runtime.ts';

test('nodeDescription: a plain node, a runtime directory loader, the host loader', () => {
  assert.equal(nodeDescription('/usr/local/bin/node', 'node', 'v20.1.0'), 'node v20.1.0 at /usr/local/bin/node');
  assert.equal(
    nodeDescription('/run/cmesh/runtime-ab/ld.so', '/run/cmesh/runtime-ab/node', 'v20.1.0'),
    'node v20.1.0 at /run/cmesh/runtime-ab/node through the loader /run/cmesh/runtime-ab/ld.so',
  );
});

test('nodeDescription: node run through the host loader names that loader and the node binary', (t) => {
  const node = realpathSync(process.execPath);
  const loader = /\s(\/\S*ld-linux\S*\.so\S*)/.exec(execFileSync('ldd', [node], { encoding: 'utf8' }))?.[1];
  if (!loader) return t.skip('node is not dynamically linked against an ld-linux loader here');
  const seen = JSON.parse(execFileSync(loader, [node, '-p', 'JSON.stringify([process.execPath, process.argv0])'], { encoding: 'utf8' })) as [string, string];
  assert.equal(seen[1], node, 'the loader hands node its own path as argv0');
  assert.equal(nodeDescription(seen[0], seen[1], 'v0'), `node v0 at ${node} through the loader ${seen[0]}`);
});
