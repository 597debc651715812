// The SwarmEngine adapter over dockerode: services, tasks, overlays, secrets and configs in cmesh's words and codes.
// Specs already use the Engine API's field names (daemon/api/swarm-engine.ts), so the mapping here is about answers.

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
  SwarmTaskState,
} from '../api/swarm-engine.ts';
import { CmeshError } from '../api/errors.ts';
import { resolveEngineTarget } from './connect.ts';
import { JsonObjectSplitter } from './json-stream.ts';
import { DockerCalls, labelFilters } from './docker-calls.ts';
import { drainStream } from './engine-streams.ts';
import type { EngineOp } from './translate-error.ts';

type Json = Record<string, unknown>;

export function createDockerSwarm(host?: string): SwarmEngine {
  return new DockerodeSwarm(new DockerCalls(resolveEngineTarget(host)));
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const labelsOf = (v: unknown): Record<string, string> => ({ ...(obj(v) as Record<string, string>) });

function toService(raw: Json): SwarmServiceInfo {
  return { id: str(raw['ID']), version: num(obj(raw['Version'])['Index']), spec: raw['Spec'] as SwarmServiceSpec };
}

/** A task as the Engine API returns it → cmesh's view (host-mode ports from Status.PortStatus). */
export function toTask(raw: Json): SwarmTaskInfo {
  const status = obj(raw['Status']);
  const spec = obj(obj(raw['Spec'])['ContainerSpec']);
  const ports = (obj(status['PortStatus'])['Ports'] as Json[] | undefined) ?? [];
  const containerId = str(obj(status['ContainerStatus'])['ContainerID']);
  return {
    id: str(raw['ID']),
    serviceId: str(raw['ServiceID']),
    slot: num(raw['Slot']),
    nodeId: str(raw['NodeID']),
    state: str(status['State']) as SwarmTaskState,
    desiredState: str(raw['DesiredState']) as SwarmTaskState,
    message: str(status['Err']) || str(status['Message']),
    ...(containerId ? { containerId } : {}),
    labels: labelsOf(spec['Labels']),
    ports: ports
      .filter((p) => num(p['PublishedPort']) > 0)
      .map((p) => ({ targetPort: num(p['TargetPort']), publishedPort: num(p['PublishedPort']), protocol: str(p['Protocol']) === 'udp' ? 'udp' : 'tcp' })),
    image: str(spec['Image']),
  };
}

/** Only the lifecycle: health checks alone would add three exec_* events per task per interval. */
const TASK_ACTIONS = ['create', 'start', 'die', 'stop', 'destroy', 'health_status'];

/**
 * Epoch ms as the Engine API's `since` (`<seconds>.<nanoseconds>`): the engine replays buffered events whose timeNano
 * is at or after it, so every event of that millisecond (SwarmEvent.time is timeNano floored to ms) comes again.
 */
export function sinceParam(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}000000`;
}

/** One /events object → a SwarmEvent of `kind`, or undefined for anything else on the stream. */
export function toSwarmEvent(kind: SwarmEventKind, raw: Json): SwarmEvent | undefined {
  const action = str(raw['Action']);
  if (str(raw['Type']) !== (kind === 'task' ? 'container' : 'service') || !action) return undefined;
  const actor = obj(raw['Actor']);
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(actor['Attributes']))) if (typeof v === 'string') attributes[k] = v;
  const nanos = num(raw['timeNano']);
  return { kind, action, id: str(actor['ID']), attributes, time: nanos > 0 ? Math.floor(nanos / 1_000_000) : Date.now() };
}

export class DockerodeSwarm implements SwarmEngine {
  readonly #d: DockerCalls;

  constructor(calls: DockerCalls) {
    this.#d = calls;
  }

  async swarmStatus(): Promise<SwarmStatus> {
    const info = obj(await this.#d.call({ op: 'swarm-inspect' }, () => this.#d.docker.info()));
    const swarm = obj(info['Swarm']);
    const nodeId = str(swarm['NodeID']);
    const nodes = swarm['Nodes'];
    return {
      state: (str(swarm['LocalNodeState']) || 'inactive') as SwarmStatus['state'],
      manager: swarm['ControlAvailable'] === true,
      ...(nodeId ? { nodeId } : {}),
      ...(typeof nodes === 'number' && nodes > 0 ? { nodes } : {}),
    };
  }

  async listServices(labels: LabelQuery): Promise<SwarmServiceInfo[]> {
    const raw = (await this.#d.call({ op: 'service-list' }, () => this.#d.docker.listServices({ filters: { label: labelFilters(labels) } }))) as unknown as Json[];
    return raw.map(toService);
  }

  async inspectService(idOrName: string): Promise<SwarmServiceInfo | undefined> {
    const raw = await this.#d.maybe({ op: 'service-list', subject: idOrName }, () => this.#d.docker.getService(idOrName).inspect());
    return raw === undefined ? undefined : toService(raw as Json);
  }

  async createService(spec: SwarmServiceSpec): Promise<SwarmServiceInfo> {
    const created = obj(await this.#d.call({ op: 'service-create', subject: spec.Name }, () => this.#d.docker.createService(spec as never)));
    const id = str(created['ID']) || str(obj(created)['id']);
    const info = await this.inspectService(id || spec.Name);
    if (!info) throw this.#d.error(new Error(`service ${spec.Name} vanished right after its creation`), { op: 'service-create', subject: spec.Name });
    return info;
  }

  async updateService(id: string, version: number, spec: SwarmServiceSpec): Promise<void> {
    // docker-modem sends `_query` as the query string and `_body` as the JSON body.
    const opts = { _query: { version }, _body: spec };
    await this.#d.call({ op: 'service-update', subject: spec.Name }, () => this.#d.docker.getService(id).update(opts as never));
  }

  async removeService(idOrName: string): Promise<void> {
    await this.#d.idempotent({ op: 'service-remove', subject: idOrName }, () => this.#d.docker.getService(idOrName).remove());
  }

  async listTasks(labels: LabelQuery): Promise<SwarmTaskInfo[]> {
    // Task label filters match the task's own labels, not its container spec's: select by service instead.
    const services = await this.listServices(labels);
    if (services.length === 0) return [];
    const raw = (await this.#d.call({ op: 'task-list' }, () => this.#d.docker.listTasks({ filters: { service: services.map((s) => s.id) } }))) as Json[];
    return raw.map(toTask);
  }

  async *events(options: { kind: SwarmEventKind; labels: LabelQuery; signal: AbortSignal; since?: number }): AsyncIterable<SwarmEvent> {
    if (options.signal.aborted) return;
    // The engine puts no labels on service events, so a label filter would drop every one of them.
    const filters = options.kind === 'task' ? { type: ['container'], event: TASK_ACTIONS, label: labelFilters(options.labels) } : { type: ['service'] };
    const query = options.since === undefined ? { filters } : { filters, since: sinceParam(options.since) };
    const res = await this.#d.open({ op: 'events' }, '/events?', query, options.signal);
    if (!res) return;
    const splitter = new JsonObjectSplitter();
    const toEvents = (objs: Json[]) => objs.map((o) => toSwarmEvent(options.kind, o)).filter((e): e is SwarmEvent => e !== undefined);
    const lost = (err: unknown) =>
      new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `lost the swarm ${options.kind} event stream`, { hint: 'reconnecting', ...(err === undefined ? {} : { cause: err }) });
    yield* drainStream(res.stream, res.link, (c) => toEvents(splitter.push(c)), () => toEvents(splitter.end()), lost);
    if (options.signal.aborted) return;
    throw lost(undefined);
  }

  async inspectNode(id: string): Promise<SwarmNodeInfo | undefined> {
    const raw = await this.#d.maybe({ op: 'swarm-inspect', subject: id }, () => this.#d.docker.getNode(id).inspect());
    if (raw === undefined) return undefined;
    const node = obj(raw);
    return { id: str(node['ID']), hostname: str(obj(node['Description'])['Hostname']), addr: str(obj(node['Status'])['Addr']) };
  }

  async listNetworks(labels: LabelQuery): Promise<SwarmNetworkInfo[]> {
    const raw = (await this.#d.call({ op: 'list' }, () => this.#d.docker.listNetworks({ filters: { label: labelFilters(labels), driver: ['overlay'] } }))) as unknown as Json[];
    return raw.map((n) => ({
      id: str(n['Id']),
      name: str(n['Name']),
      driver: str(n['Driver']),
      scope: str(n['Scope']),
      attachable: n['Attachable'] === true,
      labels: labelsOf(n['Labels']),
    }));
  }

  async createNetwork(spec: SwarmNetworkSpec): Promise<SwarmNetworkInfo> {
    const body = { Name: spec.name, Driver: 'overlay', Attachable: spec.attachable, Internal: spec.internal === true, Labels: spec.labels, CheckDuplicate: true };
    const net = await this.#d.call({ op: 'network-create', subject: spec.name }, () => this.#d.docker.createNetwork(body));
    return { id: net.id, name: spec.name, driver: 'overlay', scope: 'swarm', attachable: true, labels: { ...spec.labels } };
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.#d.idempotent({ op: 'network-remove', subject: idOrName }, () => this.#d.docker.getNetwork(idOrName).remove());
  }

  async listObjects(kind: SwarmObjectKind, labels: LabelQuery): Promise<SwarmObjectInfo[]> {
    const opts = { filters: { label: labelFilters(labels) } };
    const d = this.#d.docker;
    const raw = (await this.#d.call({ op: 'list' }, (): Promise<unknown> => (kind === 'secret' ? d.listSecrets(opts) : d.listConfigs(opts)))) as Json[];
    return raw.map((o) => {
      const spec = obj(o['Spec']);
      return { id: str(o['ID']), name: str(spec['Name']), labels: labelsOf(spec['Labels']) };
    });
  }

  async createObject(kind: SwarmObjectKind, spec: SwarmObjectSpec): Promise<SwarmObjectInfo> {
    const body = { Name: spec.name, Labels: spec.labels, Data: spec.data.toString('base64') };
    const op: EngineOp = kind === 'secret' ? 'secret-create' : 'config-create';
    const d = this.#d.docker;
    const created = await this.#d.call({ op, subject: spec.name }, () => (kind === 'secret' ? d.createSecret(body) : d.createConfig(body)));
    return { id: str(obj(created)['id']) || str(obj(created)['ID']), name: spec.name, labels: { ...spec.labels } };
  }

  async pushImage(source: string, repo: string, tag: string): Promise<string> {
    const d = this.#d.docker;
    await this.#d.call({ op: 'push', subject: source }, () => d.getImage(source).tag({ repo, tag }));
    // The registry is reached by the engine: 127.0.0.0/8 counts as insecure there, anything else needs TLS or config.
    const stream = (await this.#d.call({ op: 'push', subject: `${repo}:${tag}` }, () => d.getImage(`${repo}:${tag}`).push({ tag, authconfig: {} }))) as NodeJS.ReadableStream;
    const splitter = new JsonObjectSplitter();
    let digest = '';
    const seen = (objs: Record<string, unknown>[]): void => {
      for (const o of objs) {
        const detail = obj(o['errorDetail']);
        if (o['error'] !== undefined || Object.keys(detail).length > 0) {
          throw new CmeshError('CMESH_E_PUSH_FAILED', `push of ${repo}:${tag} failed: ${str(detail['message']) || str(o['error'])}`, {
            hint: 'check that the registry is reachable from the engine (and trusted: docker treats only 127.0.0.0/8 as insecure)',
            details: { repo, tag },
          });
        }
        const aux = str(obj(o['aux'])['Digest']);
        if (aux) digest = aux;
      }
    };
    for await (const chunk of stream) seen(splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))));
    seen(splitter.end());
    if (!digest.startsWith('sha256:')) throw new CmeshError('CMESH_E_PUSH_FAILED', `push of ${repo}:${tag} reported no digest`);
    return digest;
  }

  async removeObject(kind: SwarmObjectKind, idOrName: string): Promise<void> {
    const op: EngineOp = kind === 'secret' ? 'secret-remove' : 'config-remove';
    const d = this.#d.docker;
    await this.#d.idempotent({ op, subject: idOrName }, () => (kind === 'secret' ? d.getSecret(idOrName).remove() : d.getConfig(idOrName).remove()));
  }
}
