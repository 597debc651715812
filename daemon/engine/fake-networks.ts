// The fake engine's networks and volumes: create adopts our own project's object, remove is 404-tolerant, in-use fails.

import type { NetworkCreateSpec, NetworkInfo, VolumeCreateSpec, VolumeInfo } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import { type FakeCore, matches } from './fake-core.ts';
import { volumeConflict } from './translate-error.ts';

type LabelQuery = Record<string, string | true>;

export class FakeNetworks {
  readonly #f: FakeCore;

  constructor(core: FakeCore) {
    this.#f = core;
  }

  async list(labels: LabelQuery): Promise<NetworkInfo[]> {
    this.#f.enter('listNetworks', [labels]);
    return [...this.#f.networks.values()].filter((n) => matches(n.labels, labels)).map((n) => ({ ...n }));
  }

  async inspect(name: string): Promise<NetworkInfo | undefined> {
    this.#f.enter('inspectNetwork', [name]);
    const n = this.#f.networks.get(name) ?? [...this.#f.networks.values()].find((x) => x.id === name);
    return n && { ...n };
  }

  async create(spec: NetworkCreateSpec): Promise<NetworkInfo> {
    const f = this.#f;
    f.enter('createNetwork', [spec]);
    const existing = f.networks.get(spec.name);
    if (existing) {
      if (existing.labels[Labels.project] === spec.labels[Labels.project]) return { ...existing };
      throw f.engineError(409, `network with name ${spec.name} already exists`, {
        op: 'network-create',
        subject: spec.name,
        existingId: existing.id,
      });
    }
    const info: NetworkInfo = { id: f.nextId('a'), name: spec.name, labels: { ...spec.labels } };
    f.networks.set(spec.name, info);
    f.emit('network', 'create', info.id, info.labels, { name: spec.name });
    return { ...info };
  }

  async remove(name: string): Promise<void> {
    const f = this.#f;
    f.enter('removeNetwork', [name]);
    const n = f.networks.get(name);
    if (!n) return f.benign('network-remove', 404);
    const attached = [...f.containers.values()].some(
      (c) => (c.state === 'running' || c.state === 'paused') && c.networks.includes(name),
    );
    if (attached) {
      throw f.engineError(403, `error while removing network: network ${name} id ${n.id} has active endpoints`, {
        op: 'network-remove',
        subject: name,
      });
    }
    f.networks.delete(name);
    f.emit('network', 'destroy', n.id, n.labels, { name });
  }

  async connect(containerId: string, network: string, aliases: string[]): Promise<void> {
    const f = this.#f;
    f.enter('connectNetwork', [containerId, network, aliases]);
    const n = f.networks.get(network);
    if (!n) throw f.engineError(404, `network ${network} not found`, { op: 'network-connect', subject: network });
    const c = f.find(containerId);
    if (!c) throw f.engineError(404, `No such container: ${containerId}`, { op: 'network-connect', subject: containerId });
    if (c.networks.includes(network)) return f.benign('network-connect', 403, `endpoint with name ${c.name} already exists in network ${network}`);
    c.networks.push(network);
    c.aliases.set(network, [...aliases].sort());
    // Like the engine's: no labels on network events, the container and the network's name in the attributes.
    f.emit('network', 'connect', n.id, {}, { container: c.id, name: network });
  }

  async disconnect(containerId: string, network: string): Promise<void> {
    const f = this.#f;
    f.enter('disconnectNetwork', [containerId, network]);
    const n = f.networks.get(network);
    const c = f.find(containerId);
    if (!n || !c) return f.benign('network-disconnect', 404);
    if (!c.networks.includes(network)) return f.benign('network-disconnect', 500, `container ${c.id} is not connected to network ${network}`);
    c.networks = c.networks.filter((x) => x !== network);
    c.aliases.delete(network);
    f.emit('network', 'disconnect', n.id, {}, { container: c.id, name: network });
  }
}

export class FakeVolumes {
  readonly #f: FakeCore;

  constructor(core: FakeCore) {
    this.#f = core;
  }

  async list(labels: LabelQuery): Promise<VolumeInfo[]> {
    this.#f.enter('listVolumes', [labels]);
    return [...this.#f.volumes.values()].filter((v) => matches(v.labels, labels)).map((v) => ({ ...v }));
  }

  async inspect(name: string): Promise<VolumeInfo | undefined> {
    this.#f.enter('inspectVolume', [name]);
    const v = this.#f.volumes.get(name);
    return v && { ...v };
  }

  async create(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    const f = this.#f;
    f.enter('createVolume', [spec]);
    const existing = f.volumes.get(spec.name);
    if (existing) {
      if (existing.labels[Labels.project] === spec.labels[Labels.project]) return { ...existing };
      throw volumeConflict(spec.name);
    }
    const info: VolumeInfo = { name: spec.name, labels: { ...spec.labels } };
    f.volumes.set(spec.name, info);
    f.emit('volume', 'create', spec.name, info.labels, {});
    return { ...info };
  }

  async remove(name: string): Promise<void> {
    const f = this.#f;
    f.enter('removeVolume', [name]);
    const v = f.volumes.get(name);
    if (!v) return f.benign('volume-remove', 404);
    const users = [...f.containers.values()].filter((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (users.length > 0) {
      throw f.engineError(409, `remove ${name}: volume is in use - [${users.map((c) => c.id).join(', ')}]`, {
        op: 'volume-remove',
        subject: name,
      });
    }
    f.volumes.delete(name);
    f.emit('volume', 'destroy', name, v.labels, {});
  }
}
