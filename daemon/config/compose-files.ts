// Compose files → one merged document tree: each file's documents are parsed, interpolated and merged (Compose v2
// merges a multi-document file in order), then its `extends` and `include` are applied, then files merge as overrides.

import { dirname } from 'node:path';
import type { ErrorCode, SourcePosition } from '../api/errors.ts';
import { parseEnvFile } from './env-file.ts';
import { applyExtends } from './extends.ts';
import { applyInclude, type IncludeRequest } from './include.ts';
import type { Lookup } from './interpolate.ts';
import { interpolateTree } from './interpolate-tree.ts';
import type { Issues } from './issues.ts';
import { mergeDocuments } from './merge.ts';
import type { YMap } from './node.ts';
import { parseComposeYaml } from './parse-yaml.ts';
import type { PathSeg } from './positions.ts';
import { rebaseModelPaths } from './rebase-paths.ts';

export interface ModelEnv {
  issues: Issues;
  lookup: Lookup;
  /** Variables already warned about as unset (one warning each per load). */
  warned: Set<string>;
  /** Reads another file (extends.file, include); without it those are reported as unreadable. */
  readFile?: (absPath: string) => string;
}

export interface Model {
  model: YMap;
  /** Every document of every file was empty (Compose refuses that; an empty override alone is fine). */
  empty: boolean;
}

/**
 * Parses and interpolates one file's non-empty documents; undefined when it cannot be used (reported). Each
 * document is one override layer, so `!reset` in a later document (or file) acts on everything before it.
 */
export function readDocuments(file: string, text: string, env: ModelEnv): YMap[] | undefined {
  const docs = parseComposeYaml(file, text, env.issues);
  if (docs === undefined) return undefined;
  const maps: YMap[] = [];
  for (const d of docs) {
    if (d.kind !== 'map') {
      env.issues.error(d.pos, [], 'the top level of a compose file must be a mapping', 'start with `services:`');
      return undefined;
    }
    maps.push(interpolateTree(d, env.lookup, env.issues, env.warned) as YMap);
  }
  return maps;
}

/**
 * Loads files as overrides of each other, resolving extends and include in each. `chain` is the include path that
 * led here (absolute files), to refuse include cycles.
 */
export function loadModels(sources: { file: string; text: string }[], env: ModelEnv, chain: string[] = []): Model | undefined {
  const models: YMap[] = [];
  let empty = true;
  let failed = false;
  const extendsEnv = { issues: env.issues, loadFile: cachedLoader(env) };
  for (const src of sources) {
    const docs = readDocuments(src.file, src.text, env);
    if (docs === undefined) {
      failed = true;
      continue;
    }
    for (const doc of docs) {
      empty = false;
      const extended = applyExtends(doc, src.file, extendsEnv);
      models.push(applyInclude(extended, { issues: env.issues, load: (req) => loadIncluded(req, env, [...chain, src.file]) }));
    }
  }
  const first = { file: sources[0]?.file ?? '', line: 1, col: 1 };
  return failed ? undefined : { model: models.length === 0 ? { kind: 'map', entries: new Map(), pos: first } : mergeDocuments(models), empty };
}

/** Files named by `extends.file`, read once per load. */
function cachedLoader(env: ModelEnv): (abs: string, at: SourcePosition, path: PathSeg[]) => YMap | undefined {
  const cache = new Map<string, YMap | null>();
  return (abs, at, path) => {
    if (!cache.has(abs)) {
      const text = readOther(abs, at, path, env, 'compose file');
      const docs = text === undefined ? undefined : readDocuments(abs, text, env);
      cache.set(abs, docs === undefined ? null : mergeDocuments(docs));
    }
    return cache.get(abs) ?? undefined;
  };
}

function loadIncluded(req: IncludeRequest, env: ModelEnv, chain: string[]): YMap | undefined {
  const loop = req.files.find((f) => chain.includes(f));
  if (loop !== undefined) {
    env.issues.error(req.at, req.path, `circular include: ${[...chain, loop].join(' → ')}`, 'remove the include that closes the loop');
    return undefined;
  }
  const dotenv = new Map<string, string>();
  // The including project's variables win over the included project's env file (they are only defaults there).
  const lookup: Lookup = (name) => env.lookup(name) ?? dotenv.get(name);
  const envFiles = req.envFiles ?? [`${req.projectDir}/.env`];
  for (const f of envFiles) {
    const text = readOther(f, req.at, req.path, env, 'env file', req.envFiles === undefined);
    if (text === undefined) continue;
    const parsed = parseEnvFile(f, text, lookup);
    for (const p of parsed.problems) env.issues.error(p.position, undefined, p.message, 'expected KEY=VALUE lines', 'CMESH_E_ENV_FILE');
    for (const [k, v] of parsed.values) if (!dotenv.has(k)) dotenv.set(k, v);
  }
  const sources: { file: string; text: string }[] = [];
  for (const f of req.files) {
    const text = readOther(f, req.at, req.path, env, 'compose file');
    if (text === undefined) return undefined;
    sources.push({ file: f, text });
  }
  const loaded = loadModels(sources, { ...env, lookup }, chain);
  return loaded === undefined ? undefined : rebaseModelPaths(loaded.model, req.projectDir);
}

/** Reads a file another file points at; reports at the pointing node. `optional` files may be missing. */
function readOther(abs: string, at: SourcePosition, path: PathSeg[], env: ModelEnv, what: string, optional = false): string | undefined {
  let code: ErrorCode = 'CMESH_E_CONFIG_READ';
  let why = 'no file access in this load';
  if (env.readFile !== undefined) {
    try {
      return env.readFile(abs);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT' && optional) return undefined;
      if (errno === 'ENOENT') code = what === 'env file' ? 'CMESH_E_ENV_FILE' : 'CMESH_E_CONFIG_NOT_FOUND';
      why = errno === 'ENOENT' ? 'not found' : (errno ?? String(err));
    }
  } else if (optional) {
    return undefined;
  }
  env.issues.error(at, path, `cannot read ${what} ${abs}: ${why}`, `check the path; relative paths start from ${dirname(at.file)}`, code);
  return undefined;
}
