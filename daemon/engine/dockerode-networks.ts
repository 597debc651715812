// The adapter's networks and volumes: idempotent create (adopting our own project's object), 404-tolerant remove.

import type { NetworkCreateSpec, NetworkInfo, VolumeCreateSpec, VolumeInfo } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { networkCreateBody, volumeCreateBody } from './network-specs.ts';
import { adoptOrConflict, type DockerCalls, type LabelQuery, labelFilters } from './docker-calls.ts';
import { type ErrorContext, engineFailure, volumeConflict } from './translate-error.ts';

export class DockerNetworks {
  readonly #d: DockerCalls;

  constructor(calls: DockerCalls) {
    this.#d = calls;
  }

  async list(labels: LabelQuery): Promise<NetworkInfo[]> {
    const list = await this.#d.call({ op: 'list' }, () =>
      this.#d.docker.listNetworks({ filters: { label: labelFilters(labels) } }),
    );
    return list.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  }

  async inspect(name: string): Promise<NetworkInfo | undefined> {
    const n = (await this.#d.maybe({ op: 'network-inspect', subject: name }, () =>
      this.#d.docker.getNetwork(name).inspect(),
    )) as { Id: string; Name: string; Labels?: Record<string, string> } | undefined;
    return n && { id: n.Id, name: n.Name, labels: n.Labels ?? {} };
  }

  async create(spec: NetworkCreateSpec): Promise<NetworkInfo> {
    const ctx: ErrorContext = { op: 'network-create', subject: spec.name };
    try {
      const n = await this.#d.docker.createNetwork(networkCreateBody(spec));
      return { id: n.id, name: spec.name, labels: spec.labels };
    } catch (err) {
      if (engineFailure(err).status !== 409) throw this.#d.error(err, ctx);
      const existing = await this.inspect(spec.name);
      return adoptOrConflict(existing, spec.labels, () =>
        this.#d.error(err, { ...ctx, ...(existing ? { existingId: existing.id } : {}) }),
      );
    }
  }

  async remove(name: string): Promise<void> {
    const ctx: ErrorContext = { op: 'network-remove', subject: name };
    try {
      await this.#d.idempotent(ctx, () => this.#d.docker.getNetwork(name).remove());
    } catch (err) {
      // Engine 20.10 can keep endpoints of containers it already removed after heavy churn ("has active endpoints"
      // with nothing attached). Those stale endpoints are force-disconnected and the remove is tried once more; an
      // endpoint of a container that still exists (ours or anyone's) is left alone and the error stands.
      if (!(err instanceof CmeshError && err.details['reason'] === 'active-endpoints')) throw err;
      if ((await this.#dropStaleEndpoints(name)) === 0) throw err;
      await this.#d.idempotent(ctx, () => this.#d.docker.getNetwork(name).remove());
    }
  }

  connect(containerId: string, network: string, aliases: string[]): Promise<void> {
    return this.#d.idempotent({ op: 'network-connect', subject: `${network} (container ${containerId})` }, () =>
      this.#d.docker.getNetwork(network).connect({ Container: containerId, EndpointConfig: { Aliases: aliases } }),
    );
  }

  disconnect(containerId: string, network: string): Promise<void> {
    return this.#d.idempotent({ op: 'network-disconnect', subject: `${network} (container ${containerId})` }, () =>
      this.#d.docker.getNetwork(network).disconnect({ Container: containerId, Force: false }),
    );
  }

  /** Force-disconnects endpoints whose container is gone; returns how many. */
  async #dropStaleEndpoints(name: string): Promise<number> {
    const network = this.#d.docker.getNetwork(name);
    const info = await this.#d.maybe({ op: 'network-inspect', subject: name }, () => network.inspect());
    let dropped = 0;
    for (const [id, endpoint] of Object.entries((info?.Containers ?? {}) as Record<string, { Name?: string }>)) {
      const exists = await this.#d.maybe({ op: 'inspect', subject: id }, () => this.#d.docker.getContainer(id).inspect());
      if (exists) continue;
      await this.#d.idempotent({ op: 'network-remove', subject: name }, () =>
        network.disconnect({ Container: endpoint.Name ?? id, Force: true }),
      );
      dropped++;
    }
    return dropped;
  }
}

export class DockerVolumes {
  readonly #d: DockerCalls;

  constructor(calls: DockerCalls) {
    this.#d = calls;
  }

  async list(labels: LabelQuery): Promise<VolumeInfo[]> {
    const res = await this.#d.call({ op: 'list' }, () =>
      this.#d.docker.listVolumes({ filters: { label: labelFilters(labels) } }),
    );
    return (res.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async inspect(name: string): Promise<VolumeInfo | undefined> {
    const v = await this.#d.maybe({ op: 'volume-inspect', subject: name }, () => this.#d.docker.getVolume(name).inspect());
    return v && { name: v.Name, labels: v.Labels ?? {} };
  }

  async create(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    // The engine answers 201 with the existing volume on a duplicate name, so look first to detect foreign owners.
    const conflict = () => volumeConflict(spec.name);
    const existing = await this.inspect(spec.name);
    if (existing) return adoptOrConflict(existing, spec.labels, conflict);
    await this.#d.call({ op: 'volume-create', subject: spec.name }, () =>
      this.#d.docker.createVolume(volumeCreateBody(spec)),
    );
    const created = await this.inspect(spec.name);
    return adoptOrConflict(created ?? { name: spec.name, labels: spec.labels }, spec.labels, conflict);
  }

  remove(name: string): Promise<void> {
    return this.#d.idempotent({ op: 'volume-remove', subject: name }, () => this.#d.docker.getVolume(name).remove());
  }
}
