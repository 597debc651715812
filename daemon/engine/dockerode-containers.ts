// The adapter's container operations: create/start/stop/… with the engine's "already done" statuses as success.

import type { Readable } from 'node:stream';
import type { ContainerCreateSpec, ContainerFilter, ContainerInfo, ExecOptions, ExecResult, LogLine, LogOptions, ProcessList } from '../api/engine.ts';
import { fromInspect, fromListEntry } from './container-info.ts';
import { createOptions } from './container-spec.ts';
import { type DockerCalls, labelFilters } from './docker-calls.ts';
import { drainStream, runExec } from './engine-streams.ts';
import { LogLineDecoder } from './log-demux.ts';
import { decideReach, REACH_ENV, type ReachDecision, type ReachInfo, type ReachMode } from './replica-reach.ts';
import { endpointSettings } from './network-specs.ts';
import { engineTimestamp } from './stream-util.ts';
import { type ErrorContext, engineFailure } from './translate-error.ts';

export class DockerContainers {
  readonly #d: DockerCalls;
  readonly #reachSetting: ReachMode | 'auto';
  readonly #onReach: ((d: ReachDecision) => void) | undefined;
  /** Decided at the first create that could be reached directly (one `info` call an adapter), then kept. */
  #reach: Promise<ReachMode> | undefined;

  constructor(calls: DockerCalls, reach: ReachMode | 'auto' = 'auto', onReach?: (d: ReachDecision) => void) {
    this.#d = calls;
    this.#reachSetting = reach;
    this.#onReach = onReach;
  }

  /** How this adapter reaches replicas (replica-reach.ts); `auto` asks the engine once. */
  reachMode(): Promise<ReachMode> {
    const setting = this.#reachSetting;
    this.#reach ??= (
      setting !== 'auto'
        ? Promise.resolve<ReachDecision>({ mode: setting, reason: `replicas are reached ${setting === 'direct' ? 'at their own addresses' : 'through published loopback ports'}: ${REACH_ENV}=${setting}` })
        : this.#d
            .call({ op: 'ping' }, () => this.#d.docker.info() as Promise<ReachInfo>)
            .then((info) => decideReach(this.#d.target, info))
            // An engine that will not say what it is gets the way that works everywhere.
            .catch((err: unknown) => ({ mode: 'published' as const, reason: `replicas are reached through published loopback ports: the engine's info failed (${(err as Error).message})` }))
    ).then((d) => {
      this.#onReach?.(d);
      return d.mode;
    });
    return this.#reach;
  }

  async list(filter: ContainerFilter): Promise<ContainerInfo[]> {
    const list = await this.#d.call({ op: 'list' }, () =>
      this.#d.docker.listContainers({ all: filter.all ?? true, filters: { label: labelFilters(filter.labels) } }),
    );
    return list.map(fromListEntry);
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    const raw = await this.#d.maybe({ op: 'inspect', subject: id }, () => this.#d.docker.getContainer(id).inspect());
    return raw && fromInspect(raw);
  }

  async create(spec: ContainerCreateSpec): Promise<{ id: string }> {
    const docker = this.#d.docker;
    const ctx: ErrorContext = { op: 'create', subject: spec.name, image: spec.image };
    let id: string;
    try {
      const direct = spec.reachNetwork !== undefined && (await this.reachMode()) === 'direct';
      id = (await docker.createContainer(createOptions(spec, direct))).id;
    } catch (err) {
      if (engineFailure(err).status === 409) {
        const existing = await this.#d.maybe(ctx, () => docker.getContainer(spec.name).inspect()).catch(() => undefined);
        if (existing) ctx.existingId = existing.Id;
      }
      throw this.#d.error(err, ctx);
    }
    // Only one network can be attached at create; connect the rest now so the container starts fully wired.
    for (const net of spec.networks.slice(1)) {
      try {
        await docker.getNetwork(net.name).connect({ Container: id, EndpointConfig: endpointSettings(net) });
      } catch (err) {
        // A half-wired container would look converged to observe(); remove it so the next pass recreates it.
        await docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined);
        throw this.#d.error(err, { op: 'network-connect', subject: `${net.name} (container ${spec.name})` });
      }
    }
    return { id };
  }

  start(id: string): Promise<void> {
    return this.#d.idempotent({ op: 'start', subject: id }, () => this.#d.docker.getContainer(id).start());
  }

  stop(id: string, timeoutSec?: number): Promise<void> {
    return this.#d.idempotent({ op: 'stop', subject: id }, () =>
      this.#d.docker.getContainer(id).stop(timeoutSec === undefined ? {} : { t: timeoutSec }),
    );
  }

  kill(id: string, signal?: string): Promise<void> {
    return this.#d.idempotent({ op: 'kill', subject: id }, () =>
      this.#d.docker.getContainer(id).kill(signal ? { signal } : {}),
    );
  }

  remove(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return this.#d.idempotent({ op: 'remove', subject: id }, () =>
      this.#d.docker.getContainer(id).remove({ force: options.force ?? false, v: options.volumes ?? false }),
    );
  }

  async rename(id: string, name: string): Promise<void> {
    await this.#d.call({ op: 'rename', subject: id }, () => this.#d.docker.getContainer(id).rename({ name }));
  }

  pause(id: string): Promise<void> {
    return this.#d.idempotent({ op: 'pause', subject: id }, () => this.#d.docker.getContainer(id).pause());
  }

  unpause(id: string): Promise<void> {
    return this.#d.idempotent({ op: 'unpause', subject: id }, () => this.#d.docker.getContainer(id).unpause());
  }

  async top(id: string): Promise<ProcessList> {
    const raw = (await this.#d.call({ op: 'top', subject: id }, () => this.#d.docker.getContainer(id).top())) as {
      Titles?: string[];
      Processes?: string[][];
    };
    return { titles: raw.Titles ?? [], processes: raw.Processes ?? [] };
  }

  async *logs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    if (options.signal?.aborted) return;
    const raw = await this.#d.maybe({ op: 'logs', subject: id }, () => this.#d.docker.getContainer(id).inspect());
    if (!raw) return;
    const query: Record<string, unknown> = { follow: options.follow, stdout: true, stderr: true, timestamps: true };
    if (options.tail !== undefined) query.tail = options.tail;
    if (options.since !== undefined) query.since = engineTimestamp(options.since);
    const ctx: ErrorContext = { op: 'logs', subject: id };
    const res = await this.#d.open(ctx, `/containers/${encodeURIComponent(raw.Id)}/logs?`, query, options.signal);
    if (!res) return;
    const decoder = new LogLineDecoder({ multiplexed: !raw.Config.Tty, timestamps: true });
    yield* drainStream(res.stream, res.link, (chunk) => decoder.push(chunk), () => decoder.end(), (err) =>
      this.#d.error(err, ctx),
    );
  }

  putArchive(id: string, path: string, tar: Readable): Promise<void> {
    return this.#d.call({ op: 'archive', subject: `${id}:${path}` }, async () => {
      await this.#d.docker.getContainer(id).putArchive(tar, { path });
    });
  }

  exec(id: string, command: string[], options?: ExecOptions): Promise<ExecResult> {
    return this.#d.call({ op: 'exec', subject: id }, () => runExec(this.#d.docker, id, command, options));
  }
}
