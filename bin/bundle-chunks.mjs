// Which inputs of a split bundle each start checks, and the check of the rest when their chunk first loads.
//
// The CLI bundle has ~1700 inputs, ~1500 of them in node_modules, most reached only from chunks a verb imports on first
// use (the dashboard's ink, `export kubernetes`' models, the compose loader's YAML and zod); stat'ing all of them cost
// every start ~10 ms of CPU. A start now checks our own sources (of every chunk: an edit is caught before any code
// runs) and all inputs of the entry's static import graph. A lazy chunk checks its remaining inputs (node_modules
// files only) when it is first evaluated, through the hook every output file calls at the top of its banner. When a
// stat moved, every input is re-hashed: a chunk whose bytes changed never runs its code, the manifest forgets its stats
// (the next start rebuilds) and the process stops, asking to run the command again. Plain JS, as bundle-cache.mjs.

import { statSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RACY_MS, startInputs } from './start-check.cjs';

export { RACY_MS, startInputs };

/** The global every output file's banner calls with its own URL (bundle-build-options.mjs). */
export const CHUNK_HOOK = '__cmeshChunk';

const inNodeModules = (path) => path.includes(`${sep}node_modules${sep}`);

/**
 * At build time, from esbuild's metafile: `eager`, the indexes (into the sorted `inputs`) a start checks, and `lazy`,
 * per chunk file name outside the entry's static graph, the indexes its first load checks; `alsoEager` (absolute paths,
 * the fast bundle's inputs) are checked at start. Undefined without splitting.
 */
export function chunkPlan(metafile, root, inputs, alsoEager = []) {
  const outputs = metafile.outputs;
  const names = Object.keys(outputs);
  if (names.length < 2) return undefined;
  const index = new Map(inputs.map((p, i) => [p, i]));
  const idOf = (p) => index.get(join(root, p));
  // Inputs esbuild tree-shook out of every output (a package index's unused re-exports) still shape the build: each
  // belongs with the files that import it, so a chunk's share is everything its inputs reach in the input graph.
  const reach = (from, staticOnly) => {
    const seen = new Set(from);
    for (const queue = [...from]; queue.length > 0; ) {
      for (const i of metafile.inputs[queue.pop()]?.imports ?? []) {
        if (i.external || seen.has(i.path) || (staticOnly && i.kind === 'dynamic-import')) continue;
        seen.add(i.path);
        queue.push(i.path);
      }
    }
    return [...seen].map(idOf).filter((i) => i !== undefined);
  };
  const inputsOf = (out) => Object.keys(outputs[out].inputs).filter((p) => !p.includes(':'));
  // Every dynamic import's target is an `entryPoint` too: the entry is the one named main.mjs (entryNames).
  const entry = names.find((o) => basename(o) === 'main.mjs');
  const graph = new Set([entry]);
  for (const queue = [entry]; queue.length > 0; ) {
    for (const i of outputs[queue.pop()].imports) {
      if (i.kind !== 'import-statement' || i.external || graph.has(i.path)) continue;
      graph.add(i.path);
      queue.push(i.path);
    }
  }
  const eager = new Set(inputs.flatMap((p, i) => (inNodeModules(p) ? [] : [i])));
  for (const i of reach([...graph].flatMap(inputsOf), true)) eager.add(i);
  for (const p of alsoEager) eager.add(index.get(p));
  const lazy = {};
  const covered = new Set(eager);
  for (const out of names) {
    const rest = graph.has(out) ? [] : reach(inputsOf(out), true).filter((i) => !eager.has(i));
    for (const i of rest) covered.add(i);
    if (rest.length > 0) lazy[basename(out)] = rest;
  }
  // Anything no chunk claims is checked on every start.
  for (let i = 0; i < inputs.length; i++) if (!covered.has(i)) eager.add(i);
  return { eager: [...eager].sort((a, b) => a - b), lazy };
}

/**
 * Installs the hook every chunk's banner calls; quiet for a chunk of the start's graph or a fresh lazy one. For a lazy
 * chunk whose inputs' stats moved, `recheck(manifest)` re-hashes every input (the bytes are the bundle's, e.g. the same
 * package reinstalled: it returns the manifest with refreshed stats); otherwise `forget(manifest)` drops its stats and
 * `onStale` gets the file instead of the chunk running. `state`: `lazy`, the lazy chunks' names; `full()`, the bundle's
 * full manifest, undefined once another bundle's replaced it (then its chunks are not to be trusted either, and
 * `forget(undefined)` drops the start manifest, so the next start does not meet the mismatch again).
 */
export function guardChunks(state, { recheck, forget, onStale }) {
  let m;
  globalThis[CHUNK_HOOK] = (url) => {
    const chunk = basename(fileURLToPath(url));
    if (!state.lazy.has(chunk) || state.nearFresh?.(chunk)) return;
    m ??= state.full();
    const file = m ? staleInput(m, chunk) : chunk;
    if (file === undefined) return;
    const refreshed = m && recheck(m);
    if (refreshed) {
      m = refreshed;
      return;
    }
    forget(m);
    onStale(file);
  };
}

/** The first lazily checked input of `chunk` whose size or mtime differs from the manifest's, or undefined. */
function staleInput(m, chunk) {
  return (m.chunks?.lazy[chunk] ?? []).map((i) => m.inputs[i]).find((file) => !statMatches(file, m.stats[file]));
}

/**
 * True when the start manifest `m` lists `chunk`'s inputs (bundle-manifest.mjs: a chunk with few) and none moved;
 * false sends the check to the full manifest, which re-hashes on a difference.
 */
export function nearFresh(m, chunk) {
  const files = m.near?.[chunk];
  return files?.every((file) => statMatches(file, m.stats[file])) === true;
}

function statMatches(file, was) {
  const st = statSync(file, { throwIfNoEntry: false });
  return was !== undefined && st !== undefined && st.size === was[0] && st.mtimeMs === was[1];
}
