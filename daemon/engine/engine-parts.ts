// The ContainerEngine port as one module per resource (containers, io sessions, networks, volumes, images). Both
// adapters, the real one over dockerode (dockerode-engine.ts) and the fake (fake-engine.ts), are made of these parts:
// PartsEngine forwards the port's calls to them, so each adapter writes only what differs (ping, pulls, events).

import type { Readable } from 'node:stream';
import type {
  BuildOptions,
  BuildProgress,
  ContainerCreateSpec,
  ContainerEngine,
  ContainerFilter,
  ContainerInfo,
  EngineEvent,
  EngineInfo,
  ExecOptions,
  ExecResult,
  ImageInfo,
  ImageSummary,
  LogLine,
  LogOptions,
  NetworkCreateSpec,
  NetworkInfo,
  ProcessList,
  PullOptions,
  PullProgress,
  VolumeCreateSpec,
  VolumeInfo,
} from '../api/engine.ts';
import type { AttachOptions, ExecIoSpec, IoSession } from '../api/engine-io.ts';

type LabelQuery = Record<string, string | true>;

export interface ContainerPart {
  list(filter: ContainerFilter): Promise<ContainerInfo[]>;
  inspect(id: string): Promise<ContainerInfo | undefined>;
  create(spec: ContainerCreateSpec): Promise<{ id: string }>;
  start(id: string): Promise<void>;
  stop(id: string, timeoutSec?: number): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  remove(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  top(id: string): Promise<ProcessList>;
  logs(id: string, options: LogOptions): AsyncIterable<LogLine>;
  putArchive(id: string, path: string, tar: Readable): Promise<void>;
  exec(id: string, command: string[], options?: ExecOptions): Promise<ExecResult>;
}

/** Hijacked and streamed sessions: exec and attach stdio, the wait for an exit code, archives out of a container. */
export interface IoPart {
  execIo(id: string, spec: ExecIoSpec): Promise<IoSession>;
  attach(id: string, options: AttachOptions): Promise<IoSession>;
  wait(id: string): Promise<number>;
  getArchive(id: string, path: string): Promise<Readable>;
}

/** Networks and volumes: labelled, named resources with the same four calls. */
export interface ResourcePart<Info, Spec> {
  list(labels: LabelQuery): Promise<Info[]>;
  inspect(name: string): Promise<Info | undefined>;
  create(spec: Spec): Promise<Info>;
  remove(name: string): Promise<void>;
}

/** Networks also attach and detach running containers (a gateway's live network changes). */
export interface NetworkPart extends ResourcePart<NetworkInfo, NetworkCreateSpec> {
  connect(containerId: string, network: string, aliases: string[]): Promise<void>;
  disconnect(containerId: string, network: string): Promise<void>;
}

export interface ImagePart {
  inspect(ref: string): Promise<ImageInfo | undefined>;
  list(labels: LabelQuery): Promise<ImageSummary[]>;
  tag(ref: string, tag: string): Promise<void>;
  remove(ref: string): Promise<void>;
  build(options: BuildOptions): AsyncIterable<BuildProgress>;
}

export interface EngineParts {
  containers: ContainerPart;
  io: IoPart;
  networks: NetworkPart;
  volumes: ResourcePart<VolumeInfo, VolumeCreateSpec>;
  images: ImagePart;
}

export abstract class PartsEngine implements ContainerEngine {
  readonly #p: EngineParts;

  constructor(parts: EngineParts) {
    this.#p = parts;
  }

  abstract ping(): Promise<EngineInfo>;
  abstract pullImage(options: PullOptions): AsyncIterable<PullProgress>;
  abstract events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent>;

  listContainers(filter: ContainerFilter): Promise<ContainerInfo[]> {
    return this.#p.containers.list(filter);
  }
  inspectContainer(id: string): Promise<ContainerInfo | undefined> {
    return this.#p.containers.inspect(id);
  }
  createContainer(spec: ContainerCreateSpec): Promise<{ id: string }> {
    return this.#p.containers.create(spec);
  }
  startContainer(id: string): Promise<void> {
    return this.#p.containers.start(id);
  }
  stopContainer(id: string, timeoutSec?: number): Promise<void> {
    return this.#p.containers.stop(id, timeoutSec);
  }
  killContainer(id: string, signal?: string): Promise<void> {
    return this.#p.containers.kill(id, signal);
  }
  removeContainer(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void> {
    return this.#p.containers.remove(id, options);
  }
  renameContainer(id: string, name: string): Promise<void> {
    return this.#p.containers.rename(id, name);
  }
  pauseContainer(id: string): Promise<void> {
    return this.#p.containers.pause(id);
  }
  unpauseContainer(id: string): Promise<void> {
    return this.#p.containers.unpause(id);
  }
  topContainer(id: string): Promise<ProcessList> {
    return this.#p.containers.top(id);
  }
  containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    return this.#p.containers.logs(id, options);
  }
  putArchive(id: string, path: string, tar: Readable): Promise<void> {
    return this.#p.containers.putArchive(id, path, tar);
  }
  exec(id: string, command: string[], options?: ExecOptions): Promise<ExecResult> {
    return this.#p.containers.exec(id, command, options);
  }
  execIo(id: string, spec: ExecIoSpec): Promise<IoSession> {
    return this.#p.io.execIo(id, spec);
  }
  attachContainer(id: string, options: AttachOptions): Promise<IoSession> {
    return this.#p.io.attach(id, options);
  }
  waitContainer(id: string): Promise<number> {
    return this.#p.io.wait(id);
  }
  getArchive(id: string, path: string): Promise<Readable> {
    return this.#p.io.getArchive(id, path);
  }

  listNetworks(labels: LabelQuery): Promise<NetworkInfo[]> {
    return this.#p.networks.list(labels);
  }
  inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    return this.#p.networks.inspect(name);
  }
  createNetwork(spec: NetworkCreateSpec): Promise<NetworkInfo> {
    return this.#p.networks.create(spec);
  }
  removeNetwork(name: string): Promise<void> {
    return this.#p.networks.remove(name);
  }
  connectNetwork(containerId: string, network: string, aliases: string[]): Promise<void> {
    return this.#p.networks.connect(containerId, network, aliases);
  }
  disconnectNetwork(containerId: string, network: string): Promise<void> {
    return this.#p.networks.disconnect(containerId, network);
  }
  listVolumes(labels: LabelQuery): Promise<VolumeInfo[]> {
    return this.#p.volumes.list(labels);
  }
  inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    return this.#p.volumes.inspect(name);
  }
  createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    return this.#p.volumes.create(spec);
  }
  removeVolume(name: string): Promise<void> {
    return this.#p.volumes.remove(name);
  }

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.#p.images.inspect(ref);
  }
  listImages(labels: LabelQuery): Promise<ImageSummary[]> {
    return this.#p.images.list(labels);
  }
  removeImage(ref: string): Promise<void> {
    return this.#p.images.remove(ref);
  }
  tagImage(ref: string, tag: string): Promise<void> {
    return this.#p.images.tag(ref, tag);
  }
  buildImage(options: BuildOptions): AsyncIterable<BuildProgress> {
    return this.#p.images.build(options);
  }
}
