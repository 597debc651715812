// The adapter's images and builds: inspect/remove (never pull), and a build whose error lines beat its HTTP 200.

import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { type BuildOptions, type BuildProgress, type ImageInfo, type ImageSummary, parseExposedPorts } from '../api/engine.ts';
import { BuildProgressParser } from './build-progress.ts';
import { parseEngineTime } from './container-info.ts';
import { type DockerCalls, type LabelQuery, labelFilters } from './docker-calls.ts';
import { drainStream } from './engine-streams.ts';
import { linkAbort } from './stream-util.ts';
import type { ErrorContext } from './translate-error.ts';

/** `repo:tag` → its parts; the tag is after the last colon that follows the last slash (a registry may have a port). */
export function splitTag(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

export class DockerImages {
  readonly #d: DockerCalls;

  constructor(calls: DockerCalls) {
    this.#d = calls;
  }

  async inspect(ref: string): Promise<ImageInfo | undefined> {
    const img = await this.#d.maybe({ op: 'image-inspect', subject: ref }, () => this.#d.docker.getImage(ref).inspect());
    if (!img) return undefined;
    const exposedPorts = parseExposedPorts(img.Config?.ExposedPorts as Record<string, unknown> | undefined);
    const created = parseEngineTime(img.Created);
    const lastTagTime = parseEngineTime((img as { Metadata?: { LastTagTime?: string } }).Metadata?.LastTagTime);
    return {
      id: img.Id,
      tags: img.RepoTags ?? [],
      labels: img.Config?.Labels ?? {},
      size: img.Size,
      ...(created === undefined ? {} : { created }),
      ...(lastTagTime === undefined ? {} : { lastTagTime }),
      exposedPorts,
    };
  }

  async list(labels: LabelQuery): Promise<ImageSummary[]> {
    const list = await this.#d.call({ op: 'list' }, () => this.#d.docker.listImages({ filters: { label: labelFilters(labels) } }));
    return list.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      labels: i.Labels ?? {},
      size: i.Size,
      // Seconds since the epoch in the list.
      ...(i.Created > 0 ? { created: i.Created * 1000 } : {}),
    }));
  }

  tag(ref: string, tag: string): Promise<void> {
    const { repo, tag: name } = splitTag(tag);
    return this.#d.call({ op: 'image-tag', subject: ref }, async () => {
      await this.#d.docker.getImage(ref).tag({ repo, tag: name });
    });
  }

  remove(ref: string): Promise<void> {
    return this.#d.idempotent({ op: 'image-remove', subject: ref }, () => this.#d.docker.getImage(ref).remove());
  }

  async *build(options: BuildOptions): AsyncIterable<BuildProgress> {
    const ctx: ErrorContext = { op: 'build', ...(options.tags[0] ? { subject: options.tags[0] } : {}) };
    const link = linkAbort(options.signal);
    let res: NodeJS.ReadableStream & Readable;
    try {
      const buildOptions = {
        dockerfile: options.dockerfile,
        // Repeated `t` parameters tag the image several times; @types/dockerode only declares a single string.
        ...(options.tags.length > 0 ? { t: options.tags as unknown as string } : {}),
        ...(options.args ? { buildargs: options.args } : {}),
        ...(options.target ? { target: options.target } : {}),
        ...(options.labels && !options.labelsInDockerfile ? { labels: options.labels } : {}),
        nocache: options.noCache ?? false,
        // Repeated like `t`; the engine reads every `extrahosts` value as one `host:ip`.
        ...(options.extraHosts?.length ? { extrahosts: options.extraHosts as unknown as string } : {}),
        ...(options.networkMode ? { networkmode: options.networkMode } : {}),
        ...(options.shmSizeBytes === undefined ? {} : { shmsize: options.shmSizeBytes }),
        ...(options.ulimits?.length ? { ulimits: JSON.stringify(options.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))) } : {}),
        ...(options.pull ? { pull: true } : {}),
        ...(options.cacheFrom?.length ? { cachefrom: JSON.stringify(options.cacheFrom) } : {}),
        ...(options.platform ? { platform: options.platform } : {}),
        rm: true,
        forcerm: true,
        abortSignal: link.signal,
      } satisfies Docker.ImageBuildOptions;
      res = (await this.#d.docker.buildImage(options.context, buildOptions)) as NodeJS.ReadableStream & Readable;
    } catch (err) {
      link.dispose();
      options.context.destroy();
      if (options.signal?.aborted) return;
      throw this.#d.error(err, ctx);
    }
    const parser = new BuildProgressParser();
    const onError = (err: unknown) => this.#d.error(err, ctx);
    for await (const p of drainStream(res, link, (c) => parser.push(c), () => parser.end(), onError)) {
      yield p;
      // Never trust the HTTP 200: an error line is the build's verdict.
      if (p.kind === 'error') {
        options.context.destroy();
        throw parser.failure();
      }
    }
    options.context.destroy();
    if (options.signal?.aborted) return;
    if (parser.error) throw parser.failure();
    if (!parser.imageId) throw parser.failure('the build stream ended without an image id');
    yield { kind: 'done', imageId: parser.imageId };
  }
}
