// Builds service images from deterministic contexts, keyed by content so an unchanged service never hits the engine.

import type { BuildOptions, ContainerEngine } from '../daemon/api/engine.ts';
import { CmeshError, isCmeshError } from '../daemon/api/errors.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';
import { Labels } from '../daemon/api/labels.ts';
import type { BuildSpec, ServiceSpec } from '../daemon/api/project.ts';
import { createBuildContext } from './context.ts';
import { buildCacheKey } from './hash.ts';
import { LABELLED_DOCKERFILE, labelLine, labelledBuildFiles } from './label-line.ts';

/**
 * The image label holding the full build cache key. Only on images that carry labels anyway (the compose file has
 * `build.labels`): the cache is keyed on the content-addressed tag, and a label costs a LABEL step (a container commit,
 * ~100 ms) on Engine 20.10's classic builder.
 */
export const CONTEXT_HASH_LABEL = 'dev.cmesh.context-hash';
/** Parallel builds: the engine serializes much of a build anyway, and two keep progress readable. */
export const DEFAULT_BUILD_CONCURRENCY = 2;

export interface BuildServiceOptions {
  engine: ContainerEngine;
  project: string;
  service: ServiceSpec;
  /** Defaults to service.build. */
  build?: BuildSpec;
  /** No engine layer cache and no content-hash skip. */
  noCache?: boolean;
  /** Skip the content-hash check but let the engine reuse layers. */
  force?: boolean;
  emit?: (event: DaemonEvent) => void;
  signal?: AbortSignal;
  maxContextBytes?: number;
}

export interface BuiltImage {
  /** The content-addressed tag (`<project>-<service>:<hash12>`): containers should run this one. */
  image: string;
  tags: string[];
  imageId: string;
  cached: boolean;
  durationMs: number;
  /** The full cache key; its first 12 hex digits are the tag (and it is the dev.cmesh.context-hash label, if labelled). */
  hash: string;
}

/** Docker references must be lowercase; compose service names need not be. */
export function imageRepository(project: string, service: string): string {
  return `${project}-${service}`.toLowerCase();
}

export async function buildService(options: BuildServiceOptions): Promise<BuiltImage> {
  const { engine, project, service, signal } = options;
  const build = options.build ?? service.build;
  if (!build) {
    throw new CmeshError('CMESH_E_BUG', `buildService called for service "${service.name}" without a build section`);
  }
  const started = Date.now();
  const emit = (e: { phase: 'start' | 'step' | 'done' | 'failed'; step?: number; total?: number; text?: string }) =>
    options.emit?.({ time: Date.now(), project, service: service.name, type: 'build', ...e });

  try {
    const ctx = await createBuildContext({
      contextDir: build.context,
      dockerfile: build.dockerfile,
      ...(build.dockerfileInline === undefined ? {} : { dockerfileInline: build.dockerfileInline }),
      ...(options.maxContextBytes === undefined ? {} : { maxBytes: options.maxContextBytes }),
    });
    const hash = buildCacheKey({
      contextHash: ctx.hash,
      dockerfile: ctx.dockerfileInTar,
      args: build.args,
      target: build.target,
      labels: build.labels,
      ...(buildEnvironment(build) === undefined ? {} : { environment: buildEnvironment(build) }),
    });
    const repo = imageRepository(project, service.name);
    // The tag is the cache key: 48 bits of a sha-256 over everything that shapes the image, so an image under it was
    // built from this input (a chance collision is 2^-48 per pair of builds), and no label is needed to prove it.
    const image = `${repo}:${hash.slice(0, 12)}`;
    // Compose tags a built image with `image:` too when both are given. The extra tags are free: one build request
    // with repeated `t` (tagging cost nothing measurable next to a LABEL step; bench/RESULTS.md "Watch").
    const tags = [...new Set([`${repo}:latest`, image, ...(service.image ? [service.image] : []), ...(build.tags ?? [])])];
    const skipCache = options.noCache || options.force || build.noCache;

    if (!skipCache) {
      const existing = await engine.inspectImage(image);
      // An image that does carry the full key (labelled builds, and builds before the tag alone was trusted) must match.
      if (existing && (existing.labels[CONTEXT_HASH_LABEL] ?? hash) === hash) {
        ctx.tar.destroy();
        const durationMs = Date.now() - started;
        emit({ phase: 'done', text: `${image} is up to date` });
        return { image, tags, imageId: existing.id, cached: true, durationMs, hash };
      }
    }

    // Labels only where the user asked for them: then cmesh's own ride along in the same step for free.
    const labels =
      Object.keys(build.labels ?? {}).length === 0
        ? undefined
        : {
            ...build.labels,
            [Labels.managed]: 'true',
            [Labels.project]: project,
            [Labels.service]: service.name,
            [CONTEXT_HASH_LABEL]: hash,
          };
    // One LABEL step instead of one per label (label-line.ts). With a target the appended line would land in the last
    // stage, not necessarily the target's, so multi-stage targets keep the build parameter.
    const line = !labels || build.target ? undefined : labelLine(labels);
    let context = ctx.tar;
    if (line) {
      ctx.tar.destroy();
      context = ctx.openTar(labelledBuildFiles(await ctx.dockerfileContent(), await ctx.dockerignoreContent(), line));
    }
    emit({ phase: 'start', text: `building ${image} (${ctx.files} files, ${ctx.bytes} bytes)` });
    let imageId: string | undefined;
    const progress = engine.buildImage({
      context,
      dockerfile: line ? LABELLED_DOCKERFILE : ctx.dockerfileInTar,
      tags,
      args: build.args,
      ...(build.target ? { target: build.target } : {}),
      ...(labels ? { labels } : {}),
      ...(line ? { labelsInDockerfile: true } : {}),
      ...(options.noCache || build.noCache ? { noCache: true } : {}),
      ...engineBuildOptions(build),
      ...(signal ? { signal } : {}),
    });
    for await (const p of progress) {
      if (p.kind === 'step') emit({ phase: 'step', step: p.step, total: p.total, text: p.text });
      else if (p.kind === 'done') imageId = p.imageId;
      // Error lines are followed by the engine's own CMESH_E_BUILD_FAILED (STYLE habit 9); output is in its details.
    }
    if (imageId === undefined) {
      // The engine port returns quietly on abort; anything else without an image id is a failed build.
      if (signal?.aborted) throw signal.reason ?? new Error('build aborted');
      throw new CmeshError('CMESH_E_BUILD_FAILED', 'the build stream ended without an image id');
    }
    const durationMs = Date.now() - started;
    emit({ phase: 'done', text: `built ${image} in ${(durationMs / 1000).toFixed(1)}s` });
    return { image, tags, imageId, cached: false, durationMs, hash };
  } catch (err) {
    const wrapped = withService(err, service.name);
    emit({ phase: 'failed', text: wrapped instanceof Error ? wrapped.message : String(wrapped) });
    throw wrapped;
  }
}

/** What RUN steps see beyond the context: part of the cache key when set (a new extra host must rebuild). */
function buildEnvironment(build: BuildSpec): unknown {
  const env = {
    extraHosts: build.extraHosts?.map((h) => `${h.host}:${h.ip}`),
    network: build.network,
    shmSizeBytes: build.shmSizeBytes,
    ulimits: build.ulimits,
    platform: build.platform,
  };
  return Object.values(env).every((v) => v === undefined) ? undefined : JSON.parse(JSON.stringify(env));
}

/** The compose build keys the classic builder's API takes, in the engine port's words. */
function engineBuildOptions(build: BuildSpec): Partial<BuildOptions> {
  return {
    ...(build.extraHosts?.length ? { extraHosts: build.extraHosts.map((h) => `${h.host}:${h.ip}`) } : {}),
    ...(build.network === undefined ? {} : { networkMode: build.network }),
    ...(build.shmSizeBytes === undefined ? {} : { shmSizeBytes: build.shmSizeBytes }),
    ...(build.ulimits ? { ulimits: Object.entries(build.ulimits).map(([name, u]) => ({ name, soft: u.soft, hard: u.hard })) } : {}),
    ...(build.pull ? { pull: true } : {}),
    ...(build.cacheFrom?.length ? { cacheFrom: build.cacheFrom } : {}),
    ...(build.platform === undefined ? {} : { platform: build.platform }),
  };
}

/** Adds the service to a CmeshError's message, details and hint; anything else is rethrown untouched (a bug). */
function withService(err: unknown, service: string): unknown {
  if (!isCmeshError(err)) return err;
  const hint =
    err.hint ??
    (err.code === 'CMESH_E_BUILD_FAILED'
      ? `fix the failing step in the Dockerfile of service "${service}", then run \`cmesh up --build\``
      : undefined);
  return new CmeshError(err.code, `service "${service}": ${err.message}`, {
    ...(hint ? { hint } : {}),
    issues: err.issues,
    details: { ...err.details, service },
    cause: err,
  });
}

export interface BuildServicesOptions extends Omit<BuildServiceOptions, 'service' | 'build'> {
  services: ServiceSpec[];
  concurrency?: number;
}

/**
 * Builds every service that has a build section, at most `concurrency` at once. After the first failure no new
 * build starts; running ones finish (killing a build midway leaves nothing useful), then the first error is thrown.
 */
export async function buildServices(options: BuildServicesOptions): Promise<Record<string, BuiltImage>> {
  const { services, concurrency = DEFAULT_BUILD_CONCURRENCY, ...rest } = options;
  const queue = services.filter((s) => s.build);
  const results: Record<string, BuiltImage> = {};
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let s = queue.shift(); s && !failure; s = queue.shift()) {
      try {
        results[s.name] = await buildService({ ...rest, service: s });
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
