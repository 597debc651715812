// A service's environment: env_file entries in order, then `environment:` on top (Compose precedence). Labels work
// the same way: `label_file` entries, then `labels:` on top.

import { resolve } from 'node:path';
import type { EnvFileValues } from '../../api/project.ts';
import { parseEnvFile } from '../env-file.ts';
import { get, setOwn, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { resolveHostPath } from './paths.ts';
import { type Ctx, readBool, readKeyValues, readString, typeError } from './read.ts';

/** `files` receives each env_file that was read, with its own values (exporters map them to separate objects). */
export function readEnvironment(ctx: Ctx, service: YMap, path: PathSeg[], files: EnvFileValues[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const envFile = get(service, 'env_file');
  if (envFile !== undefined) {
    const entries: [YNode, PathSeg[]][] = envFile.kind === 'seq' ? envFile.items.map((n, i) => [n, [...path, 'env_file', i]]) : [[envFile, [...path, 'env_file']]];
    for (const [node, p] of entries) loadEnvFile(ctx, node, p, out, files);
  }
  const env = get(service, 'environment');
  if (env !== undefined) {
    for (const [k, v] of Object.entries(readKeyValues(ctx, env, [...path, 'environment'], true))) setOwn(out, k, v);
  }
  return out;
}

export function readLabels(ctx: Ctx, service: YMap, path: PathSeg[]): Record<string, string> {
  const out: Record<string, string> = {};
  const files = get(service, 'label_file');
  if (files !== undefined) {
    const entries: [YNode, PathSeg[]][] = files.kind === 'seq' ? files.items.map((n, i) => [n, [...path, 'label_file', i]]) : [[files, [...path, 'label_file']]];
    for (const [node, p] of entries) loadEnvFile(ctx, node, p, out, [], 'label');
  }
  const labels = get(service, 'labels');
  if (labels !== undefined) {
    for (const [k, v] of Object.entries(readKeyValues(ctx, labels, [...path, 'labels'], false))) setOwn(out, k, v);
  }
  return out;
}

function loadEnvFile(ctx: Ctx, node: YNode, path: PathSeg[], out: Record<string, string>, files: EnvFileValues[], kind: 'env' | 'label' = 'env'): void {
  let file: string | undefined;
  let required = true;
  if (node.kind === 'map') {
    const p = get(node, 'path');
    if (p === undefined) {
      ctx.issues.error(node.pos, path, 'env_file entry is missing "path"');
      return;
    }
    file = readString(ctx, p, [...path, 'path']);
    const r = get(node, 'required');
    if (r !== undefined) required = readBool(ctx, r, [...path, 'required']) ?? true;
  } else if (node.kind === 'scalar' && typeof node.value === 'string') {
    file = node.value;
  } else {
    typeError(ctx, node, path, kind === 'env' ? 'a path or {path, required}' : 'a path');
    return;
  }
  if (file === undefined) return;
  const abs = resolve(resolveHostPath(file, ctx.projectDir, ctx.homeDir));
  let text: string;
  try {
    if (ctx.readFile === undefined) throw new Error('no file access');
    text = ctx.readFile(abs);
  } catch {
    if (required) ctx.issues.error(node.pos, path, `${kind} file ${abs} not found`, kind === 'env' ? 'create it, or mark it `required: false`' : 'create it, or drop it from `label_file`', 'CMESH_E_ENV_FILE');
    return;
  }
  const parsed = parseEnvFile(abs, text, ctx.lookup);
  for (const prob of parsed.problems) ctx.issues.error(prob.position, undefined, prob.message, 'expected KEY=VALUE lines', 'CMESH_E_ENV_FILE');
  const values: Record<string, string> = {};
  for (const [k, v] of parsed.values) {
    setOwn(out, k, v);
    setOwn(values, k, v);
  }
  files.push({ file: abs, values });
}
