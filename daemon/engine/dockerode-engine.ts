// The ContainerEngine adapter over dockerode: the only module that talks to Docker, in cmesh's words and error codes.
// It composes one module per resource (containers, networks/volumes, images/builds) over a shared DockerCalls.

import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type {
  ExecResult,
  BuildOptions,
  BuildProgress,
  ContainerCreateSpec,
  ContainerEngine,
  ContainerFilter,
  ContainerInfo,
  EngineEvent,
  EngineInfo,
  ImageInfo,
  ImageSummary,
  ProcessList,
  ExecOptions,
  LogLine,
  LogOptions,
  NetworkCreateSpec,
  NetworkInfo,
  PullOptions,
  PullProgress,
  VolumeCreateSpec,
  VolumeInfo,
} from '../api/engine.ts';
import type { AttachOptions, ExecIoSpec, IoSession } from '../api/engine-io.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import { type EngineTarget, resolveEngineTarget } from './connect.ts';
import { DockerCalls, type LabelQuery } from './docker-calls.ts';
import { DockerContainers } from './dockerode-containers.ts';
import { DockerIo } from './dockerode-io.ts';
import { DockerImages } from './dockerode-images.ts';
import { DockerNetworks, DockerVolumes } from './dockerode-networks.ts';
import { drainStream } from './engine-streams.ts';
import { JsonObjectSplitter } from './json-stream.ts';
import { engineTimestamp, toEngineEvent } from './stream-util.ts';
import { dockerodePull } from './pull-dockerode.ts';

export interface DockerEngineOptions {
  /** unix:///path, tcp://host:port, … ; default DOCKER_HOST, else unix:///var/run/docker.sock. */
  host?: string;
  /** How long ping() waits for an answer (a wedged engine must not hang the daemon's startup). */
  pingTimeoutMs?: number;
}

export function createDockerEngine(opts: DockerEngineOptions = {}): ContainerEngine {
  return new DockerodeEngine(resolveEngineTarget(opts.host), opts.pingTimeoutMs ?? 10_000);
}

export class DockerodeEngine implements ContainerEngine {
  readonly #d: DockerCalls;
  readonly #pingTimeoutMs: number;
  readonly #containers: DockerContainers;
  readonly #io: DockerIo;
  readonly #networks: DockerNetworks;
  readonly #volumes: DockerVolumes;
  readonly #images: DockerImages;

  constructor(target: EngineTarget, pingTimeoutMs: number) {
    this.#d = new DockerCalls(target);
    this.#pingTimeoutMs = pingTimeoutMs;
    this.#containers = new DockerContainers(this.#d);
    this.#io = new DockerIo(this.#d);
    this.#networks = new DockerNetworks(this.#d);
    this.#volumes = new DockerVolumes(this.#d);
    this.#images = new DockerImages(this.#d);
  }

  async ping(): Promise<EngineInfo> {
    const signal = AbortSignal.timeout(this.#pingTimeoutMs);
    const docker = this.#d.docker;
    const host = this.#d.target.description;
    try {
      // dockerode supports abortSignal on version(); its type definitions do not declare it.
      const version = docker.version as unknown as (o: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>;
      const v = await version.call(docker, { abortSignal: signal });
      return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, host };
    } catch (err) {
      if (signal.aborted) {
        throw new CmeshError(
          'CMESH_E_ENGINE_UNAVAILABLE',
          `the Docker engine at ${host} did not answer within ${this.#pingTimeoutMs} ms`,
          { hint: 'the engine looks wedged: restart it (bash scripts/ensure-docker.sh)', cause: err },
        );
      }
      throw this.#d.error(err, { op: 'ping' });
    }
  }

  // ---- containers (dockerode-containers.ts) -----------------------------------------------------------------------

  listContainers(filter: ContainerFilter): Promise<ContainerInfo[]> {
    return this.#containers.list(filter);
  }
  inspectContainer(id: string): Promise<ContainerInfo | undefined> {
    return this.#containers.inspect(id);
  }
  createContainer(spec: ContainerCreateSpec): Promise<{ id: string }> {
    return this.#containers.create(spec);
  }
  startContainer(id: string): Promise<void> {
    return this.#containers.start(id);
  }
  stopContainer(id: string, timeoutSec?: number): Promise<void> {
    return this.#containers.stop(id, timeoutSec);
  }
  killContainer(id: string, signal?: string): Promise<void> {
    return this.#containers.kill(id, signal);
  }
  removeContainer(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void> {
    return this.#containers.remove(id, options);
  }
  renameContainer(id: string, name: string): Promise<void> {
    return this.#containers.rename(id, name);
  }
  pauseContainer(id: string): Promise<void> {
    return this.#containers.pause(id);
  }
  unpauseContainer(id: string): Promise<void> {
    return this.#containers.unpause(id);
  }
  topContainer(id: string): Promise<ProcessList> {
    return this.#containers.top(id);
  }
  containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    return this.#containers.logs(id, options);
  }
  putArchive(id: string, path: string, tar: Readable): Promise<void> {
    return this.#containers.putArchive(id, path, tar);
  }
  exec(id: string, command: string[], options?: ExecOptions): Promise<ExecResult> {
    return this.#containers.exec(id, command, options);
  }
  execIo(id: string, spec: ExecIoSpec): Promise<IoSession> {
    return this.#io.execIo(id, spec);
  }
  attachContainer(id: string, options: AttachOptions): Promise<IoSession> {
    return this.#io.attach(id, options);
  }
  waitContainer(id: string): Promise<number> {
    return this.#io.wait(id);
  }
  getArchive(id: string, path: string): Promise<Readable> {
    return this.#io.getArchive(id, path);
  }

  // ---- networks and volumes (dockerode-networks.ts) ---------------------------------------------------------------

  listNetworks(labels: LabelQuery): Promise<NetworkInfo[]> {
    return this.#networks.list(labels);
  }
  inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    return this.#networks.inspect(name);
  }
  createNetwork(spec: NetworkCreateSpec): Promise<NetworkInfo> {
    return this.#networks.create(spec);
  }
  removeNetwork(name: string): Promise<void> {
    return this.#networks.remove(name);
  }
  listVolumes(labels: LabelQuery): Promise<VolumeInfo[]> {
    return this.#volumes.list(labels);
  }
  inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    return this.#volumes.inspect(name);
  }
  createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    return this.#volumes.create(spec);
  }
  removeVolume(name: string): Promise<void> {
    return this.#volumes.remove(name);
  }

  // ---- images and builds (dockerode-images.ts) --------------------------------------------------------------------

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.#images.inspect(ref);
  }
  listImages(labels: Record<string, string | true>): Promise<ImageSummary[]> {
    return this.#images.list(labels);
  }
  removeImage(ref: string): Promise<void> {
    return this.#images.remove(ref);
  }
  pullImage(options: PullOptions): AsyncIterable<PullProgress> {
    return dockerodePull(this.#d.docker, options, (err, ctx) => this.#d.error(err, ctx));
  }
  buildImage(options: BuildOptions): AsyncIterable<BuildProgress> {
    return this.#images.build(options);
  }

  // ---- events -----------------------------------------------------------------------------------------------------

  async *events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent> {
    if (options.signal.aborted) return;
    const query: Record<string, unknown> = {
      filters: { label: [`${Labels.managed}=true`], type: ['container', 'network', 'volume'] },
    };
    if (options.since !== undefined) query.since = engineTimestamp(options.since);
    const res = await this.#d.open({ op: 'events' }, '/events?', query, options.signal);
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
    return new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `lost the event stream from ${this.#d.target.description}`, {
      hint: 'reconnecting; if it persists, start the engine with `bash scripts/ensure-docker.sh`',
      ...(err === undefined ? {} : { cause: err }),
    });
  }
}
