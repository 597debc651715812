// `build:` (a context string or a mapping) → BuildSpec with an absolute context path.

import type { BuildSpec } from '../../api/project.ts';
import { get, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { BUILD_KEYS, BUILD_UNSUPPORTED } from '../schema.ts';
import { resolveHostPath } from './paths.ts';
import type { SourcePosition } from '../../api/errors.ts';
import { readBytes } from './container-options-read.ts';
import { readExtraHosts, readUlimits } from './container-options.ts';
import { checkKeys, type Ctx, readBool, readKeyValues, readString, readStringList, typeError } from './read.ts';

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
    } else readEngineBuildKey(ctx, e.key, e.value, e.keyPos, p, spec);
  }
  return spec;
}

/**
 * What Docker Compose v2 says with the classic builder (Engine 20.10 has no BuildKit session API here): these need
 * BuildKit, and Compose refuses the build rather than build something else than asked.
 */
const BUILDKIT_ONLY: Record<string, string> = {
  additional_contexts: 'additional contexts',
  entitlements: 'entitlements',
  privileged: 'privileged mode',
  secrets: 'secrets',
  ssh: 'SSH keys',
};

/** The build keys the classic builder's API takes (extrahosts, networkmode, shmsize, ulimits, pull, t, cachefrom). */
function readEngineBuildKey(ctx: Ctx, key: string, v: YNode, keyPos: SourcePosition, p: PathSeg[], spec: BuildSpec): void {
  switch (key) {
    case 'extra_hosts': {
      const hosts = readExtraHosts(ctx, v, p);
      if (hosts !== undefined) spec.extraHosts = hosts;
      return;
    }
    case 'network': {
      const n = readString(ctx, v, p);
      if (n !== undefined) spec.network = n;
      return;
    }
    case 'shm_size': {
      const n = readBytes(ctx, v, p);
      if (n !== undefined) spec.shmSizeBytes = n;
      return;
    }
    case 'ulimits': {
      const u = readUlimits(ctx, v, p);
      if (u !== undefined) spec.ulimits = u;
      return;
    }
    case 'pull': {
      const b = readBool(ctx, v, p);
      if (b !== undefined) spec.pull = b;
      return;
    }
    case 'tags':
    case 'cache_from': {
      const list = readStringList(ctx, v, p);
      if (list !== undefined && list.length > 0) spec[key === 'tags' ? 'tags' : 'cacheFrom'] = list;
      return;
    }
    case 'platforms': {
      const list = readStringList(ctx, v, p);
      if (list === undefined || list.length === 0) return;
      if (new Set(list).size > 1) {
        ctx.issues.error(v.pos, p, "the classic builder doesn't support multi-arch build (Engine 20.10 without BuildKit)", 'keep one platform, or build the image with `docker buildx bake` and use `image:`');
        return;
      }
      spec.platform = list[0]!;
      return;
    }
    case 'cache_to':
      if (ctx.issues.canWarn) ctx.issues.warn(keyPos, p, 'build.cache_to needs BuildKit: the classic builder cannot export a build cache; ignored');
      return;
  }
  const what = BUILDKIT_ONLY[key];
  if (what === undefined) return;
  // `privileged: false` asks for nothing the classic builder lacks.
  if (key === 'privileged' && v.kind === 'scalar' && v.value === false) return;
  ctx.issues.error(keyPos, p, `the classic builder doesn't support ${what}: build.${key} needs BuildKit, which cmesh's engine API (Engine 20.10) does not offer`, `drop build.${key}, or build the image with \`docker buildx build\` and use \`image:\``);
}
