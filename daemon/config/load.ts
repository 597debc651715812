// Entry point of config loading: files + env → interpolated, merged, validated LoadedProject, or one CmeshError.

import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { CmeshError } from '../api/errors.ts';
import type { LoadedProject } from '../api/project.ts';
import { discoverComposeFiles } from './discover.ts';
import { parseEnvFile } from './env-file.ts';
import { interpolate, type Lookup } from './interpolate.ts';
import { loadModels } from './compose-files.ts';
import { Issues } from './issues.ts';
import { LIMITS } from './limits.ts';
import type { YMap } from './node.ts';
import { buildProject } from './normalize/document.ts';
import { pickProjectName } from './normalize/project-name.ts';
import { parseComposeYaml } from './parse-yaml.ts';

export interface LoadOptions {
  /** Where to discover files and resolve relative -f paths. */
  cwd: string;
  /** -f, repeatable, merged in order as overrides. */
  files?: string[];
  /** -p */
  projectName?: string;
  /** Default: folder of the first file. */
  projectDirectory?: string;
  /** --env-file (replaces the default <projectDir>/.env). */
  envFiles?: string[];
  /** --profile; when empty, COMPOSE_PROFILES is used. */
  profiles?: string[];
  /** Process env (default process.env); wins over .env. */
  env?: Record<string, string | undefined>;
  /**
   * Told every path the load looks at (read, or probed and absent), before it looks: with the env names it reads,
   * those are all the load depends on (cli/project-cache.ts keys its cache on them).
   */
  seen?: (path: string) => void;
}

export interface SourceFile {
  /** Absolute path (used in positions and to find the project directory). */
  file: string;
  text: string;
}

/** Everything loadProjectFromSources needs, with no file system access unless `readFile` is given. */
export interface SourceLoadOptions {
  projectName?: string;
  projectDirectory?: string;
  profiles?: string[];
  /** Process env; default {} (pure). */
  env?: Record<string, string | undefined>;
  /** Contents of the project env files (.env / --env-file), in order; later ones win. */
  envFiles?: SourceFile[];
  /** Reads a service `env_file`, an `extends.file` or an `include`; without it those count as missing. */
  readFile?: (absPath: string) => string;
  homeDir?: string;
}

interface ComposeModel {
  /** The merged compose tree (files, documents, extends and include applied), before normalization. */
  model: YMap;
  issues: Issues;
  lookup: Lookup;
  projectDir: string;
  envProjectName: string | undefined;
}

/** Sources → the merged compose tree, throwing the collected errors; the spec's merge examples are about this tree. */
export function loadComposeModel(sources: SourceFile[], opts: SourceLoadOptions = {}): ComposeModel {
  const first = sources[0];
  if (first === undefined) throw new CmeshError('CMESH_E_CONFIG_NOT_FOUND', 'no compose file given', { hint: 'pass a file with -f' });
  const issues = new Issues();
  const env = opts.env ?? {};
  const dotenv = new Map<string, string>();
  const lookup: Lookup = (name) => env[name] ?? dotenv.get(name);
  for (const f of opts.envFiles ?? []) {
    const parsed = parseEnvFile(f.file, f.text, lookup);
    for (const p of parsed.problems) issues.error(p.position, undefined, p.message, 'expected KEY=VALUE lines', 'CMESH_E_ENV_FILE');
    for (const [k, v] of parsed.values) dotenv.set(k, v);
  }
  issues.throwIfAny();

  const projectDir = resolve(dirname(first.file), opts.projectDirectory ?? '.');
  const envProjectName = lookup('COMPOSE_PROJECT_NAME');
  // Compose exposes the resolved project name to interpolation (in included files too). Only a file's `name:` needs
  // a look ahead, so it is computed the first time a file asks.
  let projectName = opts.projectName || envProjectName || undefined;
  const withName: Lookup = (name) => {
    if (name !== 'COMPOSE_PROJECT_NAME') return lookup(name);
    projectName ??= pickProjectName({ file: nameInFiles(sources, lookup), projectDir }).name;
    return projectName;
  };
  const loaded = loadModels(sources, { issues, lookup: withName, warned: new Set(), ...(opts.readFile ? { readFile: opts.readFile } : {}) });
  issues.throwIfAny();
  if (loaded === undefined || loaded.empty) {
    issues.error({ file: first.file, line: 1, col: 1 }, [], 'empty compose file', 'a compose file needs at least a `services:` section');
    throw issues.toError();
  }
  return { model: loaded.model, issues, lookup: withName, projectDir, envProjectName };
}

export function loadProjectFromSources(sources: SourceFile[], opts: SourceLoadOptions = {}): LoadedProject {
  const { model, issues, lookup, projectDir, envProjectName } = loadComposeModel(sources, opts);
  const env = opts.env ?? {};
  const flagProfiles = opts.profiles?.filter((p) => p !== '') ?? [];
  const profiles = flagProfiles.length > 0 ? flagProfiles : (lookup('COMPOSE_PROFILES') ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  const ctx = { issues, projectDir, homeDir: opts.homeDir ?? env['HOME'] ?? homedir(), lookup, ...(opts.readFile ? { readFile: opts.readFile } : {}) };
  const project = buildProject(ctx, model, {
    ...(opts.projectName !== undefined ? { projectName: opts.projectName } : {}),
    ...(envProjectName !== undefined ? { envProjectName } : {}),
    files: sources.map((s) => s.file),
    profiles,
  });
  issues.throwIfAny();
  return { project, warnings: issues.warnings, keys: issues.keys };
}

export async function loadProject(opts: LoadOptions): Promise<LoadedProject> {
  const env = opts.env ?? process.env;
  const seen = opts.seen ?? (() => {});
  const found = discoverComposeFiles(opts.cwd, opts.files, await withComposeFileFromDotenv(opts, env), seen);
  const sources: SourceFile[] = [];
  for (const file of found.files) sources.push({ file, text: await readComposeFile(file, seen) });
  const projectDir = opts.projectDirectory !== undefined ? resolve(opts.cwd, opts.projectDirectory) : dirname(found.files[0] ?? opts.cwd);
  const envFiles: SourceFile[] = [];
  if (opts.envFiles !== undefined && opts.envFiles.length > 0) {
    for (const f of opts.envFiles) envFiles.push(await readEnvFile(resolve(opts.cwd, f), true, seen));
  } else {
    const dflt = await readEnvFile(resolve(projectDir, '.env'), false, seen);
    if (dflt.text !== '') envFiles.push(dflt);
  }
  const loaded = loadProjectFromSources(sources, {
    ...(opts.projectName !== undefined ? { projectName: opts.projectName } : {}),
    projectDirectory: projectDir,
    ...(opts.profiles !== undefined ? { profiles: opts.profiles } : {}),
    env,
    envFiles,
    readFile: (file) => {
      seen(file);
      return readSmallFileSync(file);
    },
  });
  return { ...loaded, warnings: [...found.warnings, ...loaded.warnings] };
}

/**
 * Compose reads COMPOSE_FILE (and its separator) from the .env of the working (or --project-directory) folder
 * too, before it knows which files to load; the process environment and -f still win.
 */
async function withComposeFileFromDotenv(opts: LoadOptions, env: Record<string, string | undefined>): Promise<Record<string, string | undefined>> {
  if ((opts.files !== undefined && opts.files.length > 0) || env['COMPOSE_FILE']) return env;
  const dir = opts.projectDirectory !== undefined ? resolve(opts.cwd, opts.projectDirectory) : opts.cwd;
  const candidates = opts.envFiles !== undefined && opts.envFiles.length > 0 ? opts.envFiles.map((f) => resolve(opts.cwd, f)) : [resolve(dir, '.env')];
  const values = new Map<string, string>();
  for (const f of candidates) {
    const { text } = await readEnvFile(f, false, opts.seen);
    for (const [k, v] of parseEnvFile(f, text, (n) => env[n] ?? values.get(n)).values) values.set(k, v);
  }
  const file = values.get('COMPOSE_FILE');
  if (file === undefined || file === '') return env;
  const sep = env['COMPOSE_PATH_SEPARATOR'] ?? values.get('COMPOSE_PATH_SEPARATOR');
  return { ...env, COMPOSE_FILE: file, ...(sep !== undefined ? { COMPOSE_PATH_SEPARATOR: sep } : {}) };
}

async function readComposeFile(file: string, seen: (path: string) => void): Promise<string> {
  seen(file);
  try {
    const st = await stat(file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    if (st.size > LIMITS.maxBytes) {
      throw new CmeshError('CMESH_E_CONFIG_LIMIT', `${file} is larger than ${LIMITS.maxBytes / 1024 / 1024} MiB`, { hint: 'compose files are small; is this the right file?' });
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CmeshError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CmeshError('CMESH_E_CONFIG_NOT_FOUND', `compose file ${file} not found`, { hint: 'check the -f path', cause: err });
    throw new CmeshError('CMESH_E_CONFIG_READ', `cannot read compose file ${file}: ${code ?? String(err)}`, { hint: 'check the file permissions', cause: err });
  }
}

/** Reads an env file; a missing default .env is fine (empty), a missing --env-file is not. */
async function readEnvFile(file: string, required: boolean, seen?: (path: string) => void): Promise<SourceFile> {
  seen?.(file);
  try {
    const st = await stat(file);
    if (!st.isFile() || st.size > LIMITS.maxBytes) throw Object.assign(new Error('not a regular small file'), { code: st.isFile() ? 'EFBIG' : 'EISDIR' });
    return { file, text: await readFile(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return { file, text: '' };
    throw new CmeshError('CMESH_E_ENV_FILE', `cannot read env file ${file}: ${code === 'ENOENT' ? 'not found' : (code ?? String(err))}`, {
      hint: required ? 'check the --env-file path' : 'fix or remove the project .env file',
      cause: err,
    });
  }
}

function readSmallFileSync(file: string): string {
  if (statSync(file).size > LIMITS.maxBytes) throw new Error('file too large');
  return readFileSync(file, 'utf8');
}

/** The last `name:` of the files, interpolated; a scratch Issues because the real parse reports problems. */
function nameInFiles(sources: SourceFile[], lookup: Lookup): string | undefined {
  let name: string | undefined;
  for (const src of sources) {
    for (const doc of parseComposeYaml(src.file, src.text, new Issues()) ?? []) {
      const n = doc.kind === 'map' ? doc.entries.get('name')?.value : undefined;
      if (n?.kind === 'scalar' && typeof n.value === 'string') name = interpolate(n.value, lookup).value;
    }
  }
  return name;
}

export { projectToComposeYaml } from './render-yaml.ts';
