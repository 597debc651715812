// The in-memory SwarmEngine: services converge to their replica count at once, each task gets a host-mode port the
// way the engine picks one, and every failure is built through the adapter's own translation table.

import { createHash } from 'node:crypto';
import { CmeshError } from '../api/errors.ts';
import type {
  LabelQuery,
  SwarmEngine,
  SwarmNetworkInfo,
  SwarmNetworkSpec,
  SwarmObjectInfo,
  SwarmObjectKind,
  SwarmObjectSpec,
  SwarmEvent,
  SwarmEventKind,
  SwarmNodeInfo,
  SwarmServiceInfo,
  SwarmServiceSpec,
  SwarmStatus,
  SwarmTaskInfo,
} from '../api/swarm-engine.ts';
import { fakeId } from './fake-core.ts';
import { FakeSwarmEvents, matches } from './fake-swarm-events.ts';
import { type EngineOp, isBenign, swarmNotManager, translateEngineError } from './translate-error.ts';

export interface FakeSwarmOptions {
  status?: SwarmStatus;
  /** Image IDs the node has; a task of any other image is rejected, as on a node that cannot pull it. */
  images?: string[];
  firstHostPort?: number;
}

interface FakeService {
  id: string;
  version: number;
  spec: SwarmServiceSpec;
}

const clone = <T>(v: T): T => structuredClone(v);

export class FakeSwarm implements SwarmEngine {
  #status: SwarmStatus;
  readonly #images: Set<string>;
  readonly #services = new Map<string, FakeService>();
  readonly #tasks: SwarmTaskInfo[] = [];
  readonly #networks = new Map<string, SwarmNetworkInfo>();
  readonly #objects = { secret: new Map<string, SwarmObjectInfo>(), config: new Map<string, SwarmObjectInfo>() };
  readonly #nodes = new Map<string, SwarmNodeInfo>();
  // As on the engine, only this node's task containers have events here.
  readonly #events = new FakeSwarmEvents((t) => t.nodeId === (this.#status.nodeId ?? 'fakenode'));
  #seq = 0;
  #nextPort: number;
  #racingWrites = 0;
  /** Every method call, in order (tests assert what was sent). */
  readonly calls: { method: string; args: unknown[] }[] = [];

  constructor(opts: FakeSwarmOptions = {}) {
    this.#status = opts.status ?? { state: 'active', manager: true, nodeId: 'fakenode', nodes: 1 };
    this.#images = new Set(opts.images ?? []);
    this.#nextPort = opts.firstHostPort ?? 30000;
  }

  /** Test control: the engine joins or leaves the swarm, or is demoted. */
  setStatus(status: SwarmStatus): void {
    this.#status = status;
  }

  /**
   * Test control: the next `count` updates find the service written once more since it was read, as the engine's
   * own updater does (UpdateStatus) while a rolling update runs; each is refused "update out of sequence".
   */
  raceUpdates(count: number): void {
    this.#racingWrites = count;
  }

  addImage(id: string): void {
    this.#images.add(id);
  }

  /** Test control: the task runs on another node (known to the swarm as `node`), so not on this engine. */
  placeTask(taskId: string, node: SwarmNodeInfo): void {
    this.#nodes.set(node.id, node);
    for (const t of this.#tasks) if (t.id === taskId) t.nodeId = node.id;
  }

  async inspectNode(id: string): Promise<SwarmNodeInfo | undefined> {
    this.#enter('inspectNode', [id], 'swarm-inspect');
    const self = this.#status.nodeId ?? 'fakenode';
    return id === self ? { id, hostname: 'fake-host', addr: '127.0.0.1' } : this.#nodes.get(id);
  }

  /** Test control: the task's container dies; the orchestrator starts a replacement in the same slot. */
  failTask(taskId: string): void {
    const t = this.#tasks.find((x) => x.id === taskId);
    const svc = t && [...this.#services.values()].find((s) => s.id === t.serviceId);
    if (!t || !svc) throw new Error(`fake swarm: no task ${taskId}`);
    Object.assign(t, { state: 'failed', desiredState: 'shutdown', message: 'task: non-zero exit (137)' });
    this.#events.task(svc.spec.Name, t, 'die', { exitCode: '137' });
    this.#startTask(svc, t.slot);
  }

  async swarmStatus(): Promise<SwarmStatus> {
    this.calls.push({ method: 'swarmStatus', args: [] });
    return { ...this.#status };
  }

  async listServices(labels: LabelQuery): Promise<SwarmServiceInfo[]> {
    this.#enter('listServices', [labels], 'service-list');
    return [...this.#services.values()].filter((s) => matches(s.spec.Labels, labels)).map(clone);
  }

  async inspectService(idOrName: string): Promise<SwarmServiceInfo | undefined> {
    this.#enter('inspectService', [idOrName], 'service-list');
    const s = this.#service(idOrName);
    return s && clone(s);
  }

  async createService(spec: SwarmServiceSpec): Promise<SwarmServiceInfo> {
    this.#enter('createService', [spec], 'service-create');
    if (this.#services.has(spec.Name)) throw this.#error(409, `rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${spec.Name} already exists`, 'service-create', spec.Name);
    const svc: FakeService = { id: this.#id('s'), version: 1, spec: clone(spec) };
    this.#services.set(spec.Name, svc);
    this.#events.emit('service', 'create', svc.id, { name: spec.Name });
    this.#converge(svc, true);
    return clone(svc);
  }

  async updateService(id: string, version: number, spec: SwarmServiceSpec): Promise<void> {
    this.#enter('updateService', [id, version, spec], 'service-update');
    const svc = this.#service(id);
    if (!svc) throw this.#error(404, `service ${id} not found`, 'service-update', id);
    if (this.#racingWrites > 0) {
      this.#racingWrites -= 1;
      svc.version += 1;
    }
    if (svc.version !== version) throw this.#error(500, 'rpc error: code = Unknown desc = update out of sequence', 'service-update', id);
    const replace = JSON.stringify(svc.spec.TaskTemplate) !== JSON.stringify(spec.TaskTemplate) || JSON.stringify(svc.spec.EndpointSpec) !== JSON.stringify(spec.EndpointSpec);
    const replicas = { 'replicas.old': String(svc.spec.Mode.Replicated.Replicas), 'replicas.new': String(spec.Mode.Replicated.Replicas) };
    svc.spec = clone(spec);
    svc.version += 1;
    // As the engine reports them: an update of the task template runs Swarm's updater, a count change does not.
    const scaled = replicas['replicas.old'] !== replicas['replicas.new'] ? replicas : {};
    this.#events.emit('service', 'update', svc.id, { name: spec.Name, ...scaled, ...(replace ? { 'updatestate.new': 'updating' } : {}) });
    this.#converge(svc, replace);
    if (replace) this.#events.emit('service', 'update', svc.id, { name: spec.Name, 'updatestate.old': 'updating', 'updatestate.new': 'completed' });
  }

  async removeService(idOrName: string): Promise<void> {
    this.#enter('removeService', [idOrName], 'service-remove');
    const svc = this.#service(idOrName);
    if (!svc) return this.#benign('service-remove', 404);
    this.#services.delete(svc.spec.Name);
    this.#events.emit('service', 'remove', svc.id, { name: svc.spec.Name });
    for (let i = this.#tasks.length - 1; i >= 0; i--) if (this.#tasks[i]!.serviceId === svc.id) this.#tasks.splice(i, 1);
  }

  async listTasks(labels: LabelQuery): Promise<SwarmTaskInfo[]> {
    this.#enter('listTasks', [labels], 'task-list');
    const ids = new Set([...this.#services.values()].filter((s) => matches(s.spec.Labels, labels)).map((s) => s.id));
    return this.#tasks.filter((t) => ids.has(t.serviceId)).map(clone);
  }

  events(options: { kind: SwarmEventKind; labels: LabelQuery; signal: AbortSignal; since?: number }): AsyncIterable<SwarmEvent> {
    this.#enter('events', [options.kind, options.labels, ...(options.since === undefined ? [] : [options.since])], 'events');
    return this.#events.subscribe(options);
  }

  /** Test control: every open event stream fails, as when the engine connection drops (a reconnect may replay). */
  dropEventStreams(): void {
    this.#events.drop();
  }

  async listNetworks(labels: LabelQuery): Promise<SwarmNetworkInfo[]> {
    this.#enter('listNetworks', [labels], 'list');
    return [...this.#networks.values()].filter((n) => matches(n.labels, labels)).map(clone);
  }

  async createNetwork(spec: SwarmNetworkSpec): Promise<SwarmNetworkInfo> {
    this.#enter('createNetwork', [spec], 'network-create');
    if (this.#networks.has(spec.name)) throw this.#error(409, `network with name ${spec.name} already exists`, 'network-create', spec.name);
    const n: SwarmNetworkInfo = { id: this.#id('n'), name: spec.name, driver: 'overlay', scope: 'swarm', attachable: true, labels: { ...spec.labels } };
    this.#networks.set(spec.name, n);
    return clone(n);
  }

  async removeNetwork(idOrName: string): Promise<void> {
    this.#enter('removeNetwork', [idOrName], 'network-remove');
    const n = this.#networks.get(idOrName) ?? [...this.#networks.values()].find((x) => x.id === idOrName);
    if (!n) return this.#benign('network-remove', 404);
    const used = [...this.#services.values()].some((s) => s.spec.TaskTemplate.Networks.some((t) => t.Target === n.id || t.Target === n.name));
    if (used) throw this.#error(403, `error while removing network: network ${n.name} id ${n.id} has active endpoints`, 'network-remove', n.name);
    this.#networks.delete(n.name);
  }

  async listObjects(kind: SwarmObjectKind, labels: LabelQuery): Promise<SwarmObjectInfo[]> {
    this.#enter('listObjects', [kind, labels], 'list');
    return [...this.#objects[kind].values()].filter((o) => matches(o.labels, labels)).map(clone);
  }

  async createObject(kind: SwarmObjectKind, spec: SwarmObjectSpec): Promise<SwarmObjectInfo> {
    const op = kind === 'secret' ? 'secret-create' : 'config-create';
    this.#enter('createObject', [kind, { ...spec, data: `<${spec.data.length} bytes>` }], op);
    if (this.#objects[kind].has(spec.name)) throw this.#error(409, `rpc error: code = AlreadyExists desc = ${kind} ${spec.name} already exists`, op, spec.name);
    const o: SwarmObjectInfo = { id: this.#id(kind === 'secret' ? 'x' : 'c'), name: spec.name, labels: { ...spec.labels } };
    this.#objects[kind].set(spec.name, o);
    return clone(o);
  }

  async removeObject(kind: SwarmObjectKind, idOrName: string): Promise<void> {
    const op = kind === 'secret' ? 'secret-remove' : 'config-remove';
    this.#enter('removeObject', [kind, idOrName], op);
    const o = this.#objects[kind].get(idOrName) ?? [...this.#objects[kind].values()].find((x) => x.id === idOrName);
    if (!o) return this.#benign(op, 404);
    const refs = (s: FakeService) => (kind === 'secret' ? s.spec.TaskTemplate.ContainerSpec.Secrets : s.spec.TaskTemplate.ContainerSpec.Configs) ?? [];
    const user = [...this.#services.values()].find((s) => refs(s).some((r) => (r.SecretID ?? r.ConfigID) === o.id));
    if (user) throw this.#error(400, `rpc error: code = InvalidArgument desc = ${kind} '${o.name}' is in use by the following service: ${user.spec.Name}`, op, o.name);
    this.#objects[kind].delete(o.name);
  }

  async pushImage(source: string, repo: string, tag: string): Promise<string> {
    this.#enterAny('pushImage', [source, repo, tag]);
    if (!this.#images.has(source)) throw new CmeshError('CMESH_E_PUSH_FAILED', `push of ${repo}:${tag} failed: no such image ${source}`);
    const digest = `sha256:${createHash('sha256').update(`${source}|${repo}`).digest('hex')}`;
    // The node now has the image under its digest reference too, as the engine would after a push.
    this.#images.add(`${repo}@${digest}`);
    this.pushed.push(`${repo}:${tag}`);
    return digest;
  }

  /** `repo:tag` of every push, in order. */
  readonly pushed: string[] = [];

  /** Brings a service's running tasks to its replica count; `replace` retires every old task first (a new spec). */
  #converge(svc: FakeService, replace: boolean): void {
    const live = () => this.#tasks.filter((t) => t.serviceId === svc.id && t.desiredState === 'running');
    const retire = (t: SwarmTaskInfo) => {
      Object.assign(t, { state: 'shutdown', desiredState: 'shutdown', message: 'shutdown' });
      this.#events.task(svc.spec.Name, t, 'die', { exitCode: '0' });
    };
    if (replace) for (const t of live()) retire(t);
    const want = svc.spec.Mode.Replicated.Replicas;
    for (const t of live()) if (t.slot > want) retire(t);
    const taken = new Set(live().map((t) => t.slot));
    for (let slot = 1; slot <= want; slot++) if (!taken.has(slot)) this.#startTask(svc, slot);
  }

  #startTask(svc: FakeService, slot: number): void {
    const c = svc.spec.TaskTemplate.ContainerSpec;
    const known = this.#images.has(c.Image);
    const ports = svc.spec.EndpointSpec.Ports.filter((p) => p.PublishMode === 'host').map((p) => ({
      targetPort: p.TargetPort,
      publishedPort: p.PublishedPort ?? this.#nextPort++,
      protocol: p.Protocol,
    }));
    const task: SwarmTaskInfo = {
      id: this.#id('t'),
      serviceId: svc.id,
      slot,
      nodeId: this.#status.nodeId ?? 'fakenode',
      state: known ? 'running' : 'rejected',
      desiredState: known ? 'running' : 'shutdown',
      message: known ? 'started' : `No such image: ${c.Image}`,
      ...(known ? { containerId: this.#id('k') } : {}),
      labels: { ...c.Labels },
      ports: known ? ports : [],
      image: c.Image,
    };
    this.#tasks.push(task);
    if (!known) return;
    this.#events.task(svc.spec.Name, task, 'create');
    this.#events.task(svc.spec.Name, task, 'start');
  }


  #service(idOrName: string): FakeService | undefined {
    return this.#services.get(idOrName) ?? [...this.#services.values()].find((s) => s.id === idOrName);
  }

  /** A call that needs no swarm (image pushes go to the registry, not the manager). */
  #enterAny(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
  }

  #enter(method: string, args: unknown[], op: EngineOp): void {
    this.calls.push({ method, args });
    if (!this.#status.manager || this.#status.state !== 'active') {
      throw swarmNotManager('This node is not a swarm manager.', { op });
    }
  }

  #error(status: number, message: string, op: EngineOp, subject?: string): CmeshError {
    const err = Object.assign(new Error(`(HTTP code ${status}) fake - ${message}`), { statusCode: status });
    return translateEngineError(err, { op, ...(subject === undefined ? {} : { subject }) });
  }

  /** Asserts the shared table really calls this status benign, so the fake cannot drift from the adapter. */
  #benign(op: EngineOp, status: number): void {
    if (!isBenign(op, { status, message: '' })) throw this.#error(status, '', op);
  }

  #id(prefix: string): string {
    return fakeId(prefix, ++this.#seq).slice(0, 25);
  }
}
