// The ContainerEngine adapter over dockerode: the only module that talks to Docker, in cmesh's words and error codes.

import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type {
  BuildOptions,
  BuildProgress,
  ContainerCreateSpec,
  ContainerEngine,
  ContainerFilter,
  ContainerInfo,
  EngineEvent,
  EngineInfo,
  ImageInfo,
  LogLine,
  LogOptions,
  NetworkCreateSpec,
  NetworkInfo,
  PullOptions,
  PullProgress,
  VolumeCreateSpec,
  VolumeInfo,
} from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import { BuildProgressParser } from './build-progress.ts';
import { resolveEngineTarget, type EngineTarget } from './connect.ts';
import { fromInspect, fromListEntry } from './container-info.ts';
import { createOptions } from './container-spec.ts';
import { JsonObjectSplitter } from './json-stream.ts';
import { drainStream, openStream, runExec } from './engine-streams.ts';
import { LogLineDecoder } from './log-demux.ts';
import { dockerodePull } from './pull-dockerode.ts';
import { engineTimestamp, linkAbort, toEngineEvent } from './stream-util.ts';
import {

  type ErrorContext,
  engineFailure,
  isBenign,
  isNotFound,
  translateEngineError,
} from './translate-error.ts';

export interface DockerEngineOptions {
  /** unix:///path, tcp://host:port, … ; default DOCKER_HOST, else unix:///var/run/docker.sock. */
  host?: string;
  /** How long ping() waits for an answer (a wedged engine must not hang the daemon's startup). */
  pingTimeoutMs?: number;
}

export function createDockerEngine(opts: DockerEngineOptions = {}): ContainerEngine {
  return new DockerodeEngine(resolveEngineTarget(opts.host), opts.pingTimeoutMs ?? 10_000);
}

type LabelQuery = Record<string, string | true>;

function labelFilters(labels: LabelQuery): string[] {
  return Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}

export class DockerodeEngine implements ContainerEngine {
  readonly #docker: Docker;
  readonly #target: EngineTarget;
  readonly #pingTimeoutMs: number;

  constructor(target: EngineTarget, pingTimeoutMs: number) {
    this.#target = target;
    this.#docker = new Docker(target.options);
    this.#pingTimeoutMs = pingTimeoutMs;
  }

  #error(err: unknown, ctx: ErrorContext): CmeshError {
    return translateEngineError(err, {
      ...ctx,
      host: this.#target.description,
      ...(this.#target.dockerHost ? { dockerHost: this.#target.dockerHost } : {}),
    });
  }

  async #call<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#error(err, ctx);
    }
  }

  /** Runs an operation whose "already done" statuses (304/404/409 per the table) count as success. */
  async #idempotent(ctx: ErrorContext, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (isBenign(ctx.op, engineFailure(err))) return;
      throw this.#error(err, ctx);
    }
  }

  /** undefined on 404, so callers can treat "gone" as data rather than failure. */
  async #maybe<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (isNotFound(engineFailure(err))) return undefined;
      throw this.#error(err, ctx);
    }
  }

  /** Opens a streaming GET; undefined when aborted first, or (logs) when the container is gone. */
  async #open(ctx: ErrorContext, path: string, query: Record<string, unknown>, signal: AbortSignal | undefined) {
    try {
      return await openStream(this.#docker, path, query, signal);
    } catch (err) {
      if (ctx.op === 'logs' && isNotFound(engineFailure(err))) return undefined;
      throw this.#error(err, ctx);
    }
  }

  async ping(): Promise<EngineInfo> {
    const signal = AbortSignal.timeout(this.#pingTimeoutMs);
    try {
      // dockerode supports abortSignal on version(); its type definitions do not declare it.
      const version = this.#docker.version as unknown as (o: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>;
      const v = await version.call(this.#docker, { abortSignal: signal });
      return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, host: this.#target.description };
    } catch (err) {
      if (signal.aborted) {
        throw new CmeshError(
          'CMESH_E_ENGINE_UNAVAILABLE',
          `the Docker engine at ${this.#target.description} did not answer within ${this.#pingTimeoutMs} ms`,
          { hint: 'the engine looks wedged: restart it (bash scripts/ensure-docker.sh)', cause: err },
        );
      }
      throw this.#error(err, { op: 'ping' });
    }
  }

  // ---- containers -------------------------------------------------------------------------------------------------

  async listContainers(filter: ContainerFilter): Promise<ContainerInfo[]> {
    const list = await this.#call({ op: 'list' }, () =>
      this.#docker.listContainers({ all: filter.all ?? true, filters: { label: labelFilters(filter.labels) } }),
    );
    return list.map(fromListEntry);
  }

  async inspectContainer(id: string): Promise<ContainerInfo | undefined> {
    const raw = await this.#maybe({ op: 'inspect', subject: id }, () => this.#docker.getContainer(id).inspect());
    return raw && fromInspect(raw);
  }

  async createContainer(spec: ContainerCreateSpec): Promise<{ id: string }> {
    const ctx: ErrorContext = { op: 'create', subject: spec.name, image: spec.image };
    let id: string;
    try {
      id = (await this.#docker.createContainer(createOptions(spec))).id;
    } catch (err) {
      if (engineFailure(err).status === 409) {
        const existing = await this.#maybe(ctx, () => this.#docker.getContainer(spec.name).inspect()).catch(() => undefined);
        if (existing) ctx.existingId = existing.Id;
      }
      throw this.#error(err, ctx);
    }
    // Only one network can be attached at create; connect the rest now so the container starts fully wired.
    for (const net of spec.networks.slice(1)) {
      try {
        await this.#docker.getNetwork(net.name).connect({ Container: id, EndpointConfig: { Aliases: net.aliases } });
      } catch (err) {
        // A half-wired container would look converged to observe(); remove it so the next pass recreates it.
        await this.#docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined);
        throw this.#error(err, { op: 'network-connect', subject: `${net.name} (container ${spec.name})` });
      }
    }
    return { id };
  }

  startContainer(id: string): Promise<void> {
    return this.#idempotent({ op: 'start', subject: id }, () => this.#docker.getContainer(id).start());
  }

  stopContainer(id: string, timeoutSec?: number): Promise<void> {
    return this.#idempotent({ op: 'stop', subject: id }, () =>
      this.#docker.getContainer(id).stop(timeoutSec === undefined ? {} : { t: timeoutSec }),
    );
  }

  killContainer(id: string, signal?: string): Promise<void> {
    return this.#idempotent({ op: 'kill', subject: id }, () =>
      this.#docker.getContainer(id).kill(signal ? { signal } : {}),
    );
  }

  removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return this.#idempotent({ op: 'remove', subject: id }, () =>
      this.#docker.getContainer(id).remove({ force: options.force ?? false, v: options.volumes ?? false }),
    );
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.#call({ op: 'rename', subject: id }, () => this.#docker.getContainer(id).rename({ name }));
  }

  pauseContainer(id: string): Promise<void> {
    return this.#idempotent({ op: 'pause', subject: id }, () => this.#docker.getContainer(id).pause());
  }

  unpauseContainer(id: string): Promise<void> {
    return this.#idempotent({ op: 'unpause', subject: id }, () => this.#docker.getContainer(id).unpause());
  }

  async *containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    if (options.signal?.aborted) return;
    const raw = await this.#maybe({ op: 'logs', subject: id }, () => this.#docker.getContainer(id).inspect());
    if (!raw) return;
    const query: Record<string, unknown> = { follow: options.follow, stdout: true, stderr: true, timestamps: true };
    if (options.tail !== undefined) query.tail = options.tail;
    if (options.since !== undefined) query.since = engineTimestamp(options.since);
    const ctx: ErrorContext = { op: 'logs', subject: id };
    const res = await this.#open(ctx, `/containers/${encodeURIComponent(raw.Id)}/logs?`, query, options.signal);
    if (!res) return;
    const decoder = new LogLineDecoder({ multiplexed: !raw.Config.Tty, timestamps: true });
    yield* drainStream(res.stream, res.link, (chunk) => decoder.push(chunk), () => decoder.end(), (err) =>
      this.#error(err, ctx),
    );
  }

  putArchive(id: string, path: string, tar: Readable): Promise<void> {
    return this.#call({ op: 'archive', subject: `${id}:${path}` }, async () => {
      await this.#docker.getContainer(id).putArchive(tar, { path });
    });
  }

  exec(id: string, command: string[]): Promise<{ exitCode: number; output: string }> {
    return this.#call({ op: 'exec', subject: id }, () => runExec(this.#docker, id, command));
  }

  // ---- networks and volumes ---------------------------------------------------------------------------------------

  async listNetworks(labels: LabelQuery): Promise<NetworkInfo[]> {
    const list = await this.#call({ op: 'list' }, () =>
      this.#docker.listNetworks({ filters: { label: labelFilters(labels) } }),
    );
    return list.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    const n = (await this.#maybe({ op: 'network-inspect', subject: name }, () =>
      this.#docker.getNetwork(name).inspect(),
    )) as { Id: string; Name: string; Labels?: Record<string, string> } | undefined;
    return n && { id: n.Id, name: n.Name, labels: n.Labels ?? {} };
  }

  async createNetwork(spec: NetworkCreateSpec): Promise<NetworkInfo> {
    const ctx: ErrorContext = { op: 'network-create', subject: spec.name };
    try {
      const n = await this.#docker.createNetwork({
        Name: spec.name,
        // Without CheckDuplicate, API < 1.44 happily creates a second network with the same name.
        CheckDuplicate: true,
        Labels: spec.labels,
        ...(spec.driver ? { Driver: spec.driver } : {}),
        ...(spec.internal ? { Internal: true } : {}),
      });
      return { id: n.id, name: spec.name, labels: spec.labels };
    } catch (err) {
      if (engineFailure(err).status !== 409) throw this.#error(err, ctx);
      const existing = await this.inspectNetwork(spec.name);
      return adoptOrConflict(existing, spec.labels, () => this.#error(err, { ...ctx, ...(existing ? { existingId: existing.id } : {}) }));
    }
  }

  async removeNetwork(name: string): Promise<void> {
    const ctx: ErrorContext = { op: 'network-remove', subject: name };
    try {
      await this.#idempotent(ctx, () => this.#docker.getNetwork(name).remove());
    } catch (err) {
      // Engine 20.10 can keep endpoints of containers it already removed after heavy churn ("has active endpoints"
      // with nothing attached). Those stale endpoints are force-disconnected and the remove is tried once more; an
      // endpoint of a container that still exists (ours or anyone's) is left alone and the error stands.
      if (!(err instanceof CmeshError && err.details['reason'] === 'active-endpoints')) throw err;
      if ((await this.#dropStaleEndpoints(name)) === 0) throw err;
      await this.#idempotent(ctx, () => this.#docker.getNetwork(name).remove());
    }
  }

  /** Force-disconnects endpoints whose container is gone; returns how many. */
  async #dropStaleEndpoints(name: string): Promise<number> {
    const network = this.#docker.getNetwork(name);
    const info = await this.#maybe({ op: 'network-inspect', subject: name }, () => network.inspect());
    let dropped = 0;
    for (const [id, endpoint] of Object.entries((info?.Containers ?? {}) as Record<string, { Name?: string }>)) {
      const exists = await this.#maybe({ op: 'inspect', subject: id }, () => this.#docker.getContainer(id).inspect());
      if (exists) continue;
      await this.#idempotent({ op: 'network-remove', subject: name }, () => network.disconnect({ Container: endpoint.Name ?? id, Force: true }));
      dropped++;
    }
    return dropped;
  }

  async listVolumes(labels: LabelQuery): Promise<VolumeInfo[]> {
    const res = await this.#call({ op: 'list' }, () => this.#docker.listVolumes({ filters: { label: labelFilters(labels) } }));
    return (res.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    const v = await this.#maybe({ op: 'volume-inspect', subject: name }, () => this.#docker.getVolume(name).inspect());
    return v && { name: v.Name, labels: v.Labels ?? {} };
  }

  async createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    // The engine answers 201 with the existing volume on a duplicate name, so look first to detect foreign owners.
    const conflict = () =>
      new CmeshError('CMESH_E_NAME_CONFLICT', `volume name "${spec.name}" is already in use by another project`, {
        hint: `remove it (docker volume rm ${spec.name}) or choose another project name`,
        details: { op: 'volume-create', name: spec.name, existingId: spec.name },
      });
    const existing = await this.inspectVolume(spec.name);
    if (existing) return adoptOrConflict(existing, spec.labels, conflict);
    await this.#call({ op: 'volume-create', subject: spec.name }, () =>
      this.#docker.createVolume({ Name: spec.name, Labels: spec.labels, ...(spec.driver ? { Driver: spec.driver } : {}) }),
    );
    const created = await this.inspectVolume(spec.name);
    return adoptOrConflict(created ?? { name: spec.name, labels: spec.labels }, spec.labels, conflict);
  }

  removeVolume(name: string): Promise<void> {
    return this.#idempotent({ op: 'volume-remove', subject: name }, () => this.#docker.getVolume(name).remove());
  }

  // ---- images -----------------------------------------------------------------------------------------------------

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const img = await this.#maybe({ op: 'image-inspect', subject: ref }, () => this.#docker.getImage(ref).inspect());
    return img && { id: img.Id, tags: img.RepoTags ?? [], labels: img.Config?.Labels ?? {} };
  }

  removeImage(ref: string): Promise<void> {
    return this.#idempotent({ op: 'image-remove', subject: ref }, () => this.#docker.getImage(ref).remove());
  }

  pullImage(options: PullOptions): AsyncIterable<PullProgress> {
    return dockerodePull(this.#docker, options, (err, ctx) => this.#error(err, ctx));
  }

  async *buildImage(options: BuildOptions): AsyncIterable<BuildProgress> {
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
        rm: true,
        forcerm: true,
        abortSignal: link.signal,
      } satisfies Docker.ImageBuildOptions;
      res = (await this.#docker.buildImage(options.context, buildOptions)) as NodeJS.ReadableStream & Readable;
    } catch (err) {
      link.dispose();
      options.context.destroy();
      if (options.signal?.aborted) return;
      throw this.#error(err, ctx);
    }
    const parser = new BuildProgressParser();
    const onError = (err: unknown) => this.#error(err, ctx);
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

  // ---- events -----------------------------------------------------------------------------------------------------

  async *events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent> {
    if (options.signal.aborted) return;
    const query: Record<string, unknown> = {
      filters: { label: [`${Labels.managed}=true`], type: ['container', 'network', 'volume'] },
    };
    if (options.since !== undefined) query.since = engineTimestamp(options.since);
    const res = await this.#open({ op: 'events' }, '/events?', query, options.signal);
    if (!res) return;
    // Engine 20.10 puts no labels on network/volume event attributes, so the label filter lets only container events
    // through; the reconcile loop's periodic resync covers networks and volumes (events only wake it anyway).
    const splitter = new JsonObjectSplitter();
    const toEvents = (objs: Record<string, unknown>[]) =>
      objs.map(toEngineEvent).filter((e): e is EngineEvent => e !== undefined);
    const onError = (err: unknown) => this.#lost(err);
    yield* drainStream(res.stream, res.link, (c) => toEvents(splitter.push(c)), () => toEvents(splitter.end()), onError);
    if (options.signal.aborted) return;
    // The engine never ends /events on its own: an end means the connection (or the engine) went away.
    throw this.#lost(undefined);
  }

  #lost(err: unknown): CmeshError {
    if (err instanceof CmeshError && err.code === 'CMESH_E_ENGINE_UNAVAILABLE') return err;
    return new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `lost the event stream from ${this.#target.description}`, {
      hint: 'reconnecting; if it persists, start the engine with `bash scripts/ensure-docker.sh`',
      ...(err === undefined ? {} : { cause: err }),
    });
  }
}

/** An existing object is ours to reuse only when it belongs to the same project; anything else is a conflict. */
function adoptOrConflict<T extends { labels: Record<string, string> }>(
  existing: T | undefined,
  wanted: Record<string, string>,
  conflict: () => CmeshError,
): T {
  if (existing && existing.labels[Labels.project] === wanted[Labels.project]) return existing;
  throw conflict();
}


