// `build:` (a context string or a mapping) → BuildSpec with an absolute context path.

import type { BuildSpec } from '../../api/project.ts';
import { get, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { BUILD_KEYS, BUILD_UNSUPPORTED } from '../schema.ts';
import { resolveHostPath } from './paths.ts';
import { checkKeys, type Ctx, readBool, readKeyValues, readString, typeError } from './read.ts';

/** Remote contexts (git URLs) are passed through untouched; the builder decides what to do with them. */
const REMOTE = /^([a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i;

function context(ctx: Ctx, raw: string): string {
  return REMOTE.test(raw) ? raw : resolveHostPath(raw, ctx.projectDir, ctx.homeDir);
}

export function readBuild(ctx: Ctx, node: YNode, path: PathSeg[]): BuildSpec | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    return { context: context(ctx, node.value), dockerfile: 'Dockerfile', args: {}, labels: {} };
  }
  if (node.kind !== 'map') return typeError(ctx, node, path, 'a context path or a mapping', 'e.g. `build: .` or `build: {context: ., dockerfile: Dockerfile}`');
  checkKeys(ctx, node, path, { supported: BUILD_KEYS, unsupported: BUILD_UNSUPPORTED });
  const ctxNode = get(node, 'context');
  const ctxPath = ctxNode === undefined ? '.' : readString(ctx, ctxNode, [...path, 'context']);
  const spec: BuildSpec = { context: context(ctx, ctxPath ?? '.'), dockerfile: 'Dockerfile', args: {}, labels: {} };
  for (const e of node.entries.values()) {
    const p = [...path, e.key];
    if (e.key === 'dockerfile') spec.dockerfile = readString(ctx, e.value, p) ?? spec.dockerfile;
    else if (e.key === 'dockerfile_inline') {
      const text = readString(ctx, e.value, p);
      if (text !== undefined && node.entries.has('dockerfile')) {
        ctx.issues.error(e.keyPos, p, 'dockerfile and dockerfile_inline are mutually exclusive', 'keep only one of them');
      } else if (text !== undefined) spec.dockerfileInline = text;
    } else if (e.key === 'target') {
      const t = readString(ctx, e.value, p);
      if (t !== undefined) spec.target = t;
    } else if (e.key === 'args') spec.args = readKeyValues(ctx, e.value, p, true);
    else if (e.key === 'labels') spec.labels = readKeyValues(ctx, e.value, p, false);
    else if (e.key === 'no_cache') {
      const b = readBool(ctx, e.value, p);
      if (b !== undefined) spec.noCache = b;
    }
  }
  return spec;
}
