#!/usr/bin/env node
// Entry shim. `cmesh ps` and `cmesh up -d`, the verbs run most, first try the CLI's fast bundle: one CommonJS file
// (cli/fast-entry.ts, built with the CLI's bundle) required before node's ESM loader is started, after the same start
// check of every input as the full CLI's (start-check.cjs). It takes the command only in the shapes it knows, on a
// project the project cache answers, and writes nothing otherwise; then, as for every other verb, launch.mjs runs the
// full CLI. This file is CommonJS (bin/package.json): an ES module entry starts the ESM loader, ~10 ms of every start.

// bin/cmesh (the installed command) moved NODE_EXTRA_CA_CERTS aside so node would not parse it at start: put it back
// before anything else runs, for every child to inherit; the CLI's own TLS clients use cli/tls-client-trust.ts.
if (process.env.CMESH_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.CMESH_NODE_EXTRA_CA_CERTS;
  delete process.env.CMESH_NODE_EXTRA_CA_CERTS;
}

const { dirname } = require('node:path');
const { FAST_GLOBALS, cacheDirs, freshFastBundle } = require('./start-check.cjs');

const FAST_VERBS = new Set(['ps', 'up']);

/** The verb after any leading `-p NAME` / `-f PATH` pairs. */
function verbOf(argv) {
  let i = 0;
  while (FAST_GLOBALS.has(argv[i])) i += 2;
  return argv[i];
}

/** The fast bundle's exit code, or undefined when it did not take the command (or there is no fresh one). */
function runFast(argv, env) {
  if (!FAST_VERBS.has(verbOf(argv)) || env.CMESH_BUNDLE === '0' || env.CMESH_FAST_PATH === '0') return undefined;
  const root = dirname(__dirname);
  const fast = freshFastBundle(root, cacheDirs(root, env));
  if (!fast) return undefined;
  let run;
  try {
    ({ run } = require(fast.path));
  } catch {
    return undefined; // Gone or torn (another start is replacing it): the full launcher rebuilds if need be.
  }
  return run(argv, fast.build);
}

Promise.resolve(runFast(process.argv.slice(2), process.env)).then((code) => {
  if (code === undefined) return import('./launch.mjs');
  process.exitCode = code;
});
