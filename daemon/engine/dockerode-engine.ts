// The ContainerEngine adapter over dockerode: the only module that talks to Docker, in cmesh's words and error codes.
// It is made of one module per resource (containers, io, networks/volumes, images/builds) over a shared DockerCalls,
// which PartsEngine (engine-parts.ts) forwards the port's calls to; ping, pulls and events are written here.

import type Docker from 'dockerode';
import type {
  ContainerEngine,
  EngineEvent,
  EngineInfo,
  PullOptions,
  PullProgress,
} from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import { type EngineTarget, resolveEngineTarget } from './connect.ts';
import { DockerCalls } from './docker-calls.ts';
import { DockerContainers } from './dockerode-containers.ts';
import { DockerIo } from './dockerode-io.ts';
import { DockerImages } from './dockerode-images.ts';
import { DockerNetworks, DockerVolumes } from './dockerode-networks.ts';
import { PartsEngine } from './engine-parts.ts';
import { drainStream } from './engine-streams.ts';
import { JsonObjectSplitter } from './json-stream.ts';
import { mergeStreams } from './merge-streams.ts';
import { engineTimestamp, isLinkEvent, toEngineEvent } from './stream-util.ts';
import { dockerodePull } from './pull-dockerode.ts';
import { type ReachDecision, type ReachMode, reachSetting } from './replica-reach.ts';

export interface DockerEngineOptions {
  /** unix:///path, tcp://host:port, … ; default DOCKER_HOST, else unix:///var/run/docker.sock. */
  host?: string;
  /** How long ping() waits for an answer (a wedged engine must not hang the daemon's startup). */
  pingTimeoutMs?: number;
  /** How the daemon reaches replicas (replica-reach.ts); default CMESH_REPLICA_REACH, else `auto`. */
  reach?: ReachMode | 'auto';
  /** Told once, at the first create that asks, how replicas are reached and why (the daemon logs it). */
  onReach?: (d: ReachDecision) => void;
}

/**
 * cmesh's own objects, by label. Engine 20.10 puts no labels on network/volume event attributes, so only container
 * events match; the reconcile loop's periodic resync covers networks and volumes (events only wake it anyway).
 */
const OWN_EVENTS = { label: [`${Labels.managed}=true`], type: ['container', 'network', 'volume'] };
/** Every container's network connects and disconnects (unlabelled: the daemon keeps those of replicas it routes to). */
const LINK_EVENTS = { type: ['network'], event: ['connect', 'disconnect'] };

export function createDockerEngine(opts: DockerEngineOptions = {}): ContainerEngine {
  return new DockerodeEngine(resolveEngineTarget(opts.host), opts.pingTimeoutMs ?? 10_000, opts.reach ?? reachSetting(), opts.onReach);
}

export class DockerodeEngine extends PartsEngine {
  readonly #d: DockerCalls;
  readonly #pingTimeoutMs: number;

  constructor(target: EngineTarget, pingTimeoutMs: number, reach: ReachMode | 'auto' = 'auto', onReach?: (d: ReachDecision) => void) {
    const d = new DockerCalls(target);
    super({
      containers: new DockerContainers(d, reach, onReach),
      io: new DockerIo(d),
      networks: new DockerNetworks(d),
      volumes: new DockerVolumes(d),
      images: new DockerImages(d),
    });
    this.#d = d;
    this.#pingTimeoutMs = pingTimeoutMs;
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

  // ---- images: pulls (the rest is PartsEngine's, engine-parts.ts) ------------------------------------------------

  pullImage(options: PullOptions): AsyncIterable<PullProgress> {
    return dockerodePull(this.#d.docker, options, (err, ctx) => this.#d.error(err, ctx));
  }

  // ---- events -----------------------------------------------------------------------------------------------------

  async *events(options: { signal: AbortSignal; since?: number }): AsyncIterable<EngineEvent> {
    if (options.signal.aborted) return;
    // The engine ANDs its filters, and puts no labels on network events: a replica's network links (a `docker network
    // disconnect` by hand takes a replica reached at its own address off the air) need a subscription of their own.
    const open = (filters: Record<string, string[]>, keep: (e: EngineEvent) => boolean) => (signal: AbortSignal) =>
      this.#subscribe(filters, keep, options.since, signal);
    yield* mergeStreams([open(OWN_EVENTS, () => true), open(LINK_EVENTS, isLinkEvent)], options.signal);
    if (options.signal.aborted) return;
    // The engine never ends /events on its own: an end means the connection (or the engine) went away.
    throw this.#lost(undefined);
  }

  /** One /events subscription; ends quietly on abort or when the engine closes it (events() tells those apart). */
  async *#subscribe(
    filters: Record<string, string[]>,
    keep: (e: EngineEvent) => boolean,
    since: number | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<EngineEvent> {
    const query: Record<string, unknown> = { filters };
    if (since !== undefined) query.since = engineTimestamp(since);
    const res = await this.#d.open({ op: 'events' }, '/events?', query, signal);
    if (!res) return;
    const splitter = new JsonObjectSplitter();
    const toEvents = (objs: Record<string, unknown>[]) =>
      objs.map(toEngineEvent).filter((e): e is EngineEvent => e !== undefined && keep(e));
    yield* drainStream(res.stream, res.link, (c) => toEvents(splitter.push(c)), () => toEvents(splitter.end()), (err) => this.#lost(err));
  }

  #lost(err: unknown): CmeshError {
    if (err instanceof CmeshError && err.code === 'CMESH_E_ENGINE_UNAVAILABLE') return err;
    return new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `lost the event stream from ${this.#d.target.description}`, {
      hint: 'reconnecting; if it persists, start the engine with `bash scripts/ensure-docker.sh`',
      ...(err === undefined ? {} : { cause: err }),
    });
  }
}
