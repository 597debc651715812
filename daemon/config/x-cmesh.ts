// Our `x-cmesh` extension: service-level keys plus project-level `x-cmesh.defaults`, validated and resolved to a
// MeshSpec. When no health probe is given we derive one from the compose healthcheck's intent (an HTTP GET).

import type { SourcePosition } from '../api/errors.ts';
import type { HealthcheckSpec, HealthProbe, MeshSpec, ServiceSpec } from '../api/project.ts';
import type { TlsSpec } from '../api/tls.ts';
import type { TrafficPolicy } from '../api/traffic-policy.ts';
import { get, type YMap, type YNode } from './node.ts';
import { type Ctx, checkKeys, readBool, readDuration, readEnum, readInt, readMap, readNumber, readString, typeError } from './normalize/read.ts';
import type { PathSeg } from './positions.ts';
import { POLICY_KEYS, readPolicyKey, resolvePolicy } from './policy-read.ts';
import { TARGETS, type Target } from '../api/target.ts';
import { LB_STRATEGIES, PROTOCOLS } from './schema.ts';
import { readTls } from './tls-read.ts';
import { REGISTRY } from './registry-name.ts';

export const MESH_DEFAULTS = {
  lb: 'p2c',
  protocol: 'http',
  weight: 1,
  retries: 2,
  health: { intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 2 },
  timeouts: { connectMs: 5000, requestMs: 30_000, idleMs: 60_000 },
  accessLog: false,
} as const;

type HealthOverrides = Partial<Omit<HealthProbe, never>>;
export interface MeshOverrides {
  lb?: MeshSpec['lb'];
  protocol?: (typeof PROTOCOLS)[number];
  weight?: number;
  weights?: number[];
  health?: HealthOverrides;
  retries?: number;
  timeouts?: Partial<MeshSpec['timeouts']>;
  bind?: string;
  hashKey?: string;
  accessLog?: boolean;
  rollout?: { maxSurge?: number };
  /** `mesh: false` opts the service out of the east-west mesh. */
  mesh?: boolean;
  ports?: number[];
  /** routes, rate_limit, circuit_breaker, retry, faults (policy-read.ts). */
  policy?: TrafficPolicy;
  /** `tls: false` turns off TLS a project default turned on. */
  tls?: TlsSpec | false;
}

/** Top-level `x-cmesh:`: defaults for every service, and the east-west switch. */
export interface ProjectMeshSettings {
  defaults: MeshOverrides;
  eastWest?: boolean;
  /** `x-cmesh.target`: where the project runs unless --target or CMESH_TARGET says otherwise. */
  target?: Target;
  /** `x-cmesh.registry`: where the swarm target pushes built images so every node can pull them. */
  registry?: string;
}

const MESH_KEYS = new Set(['lb', 'protocol', 'weight', 'weights', 'health', 'retries', 'timeouts', 'bind', 'hash_key', 'access_log', 'rollout', 'mesh', 'ports', 'tls', ...POLICY_KEYS]);
const ROLLOUT_KEYS = new Set(['max_surge']);
const HEALTH_KEYS = new Set(['path', 'port', 'interval', 'timeout', 'rise', 'fall']);
const TIMEOUT_KEYS = new Set(['connect', 'request', 'idle']);
const HASH_KEY = /^(header:[A-Za-z0-9-]+|cookie:[A-Za-z0-9_.-]+|ip)$/;
const BIND = /^((25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

/** Project-level `x-cmesh:`: `defaults` and `east_west` (on unless false). */
export function readProjectMesh(ctx: Ctx, node: YNode, path: PathSeg[]): ProjectMeshSettings {
  const map = readMap(ctx, node, path);
  if (map === undefined) return { defaults: {} };
  checkKeys(ctx, map, path, { supported: new Set(['defaults', 'east_west', 'target', 'registry']) });
  const d = get(map, 'defaults');
  const out: ProjectMeshSettings = { defaults: d === undefined ? {} : readMeshOverrides(ctx, d, [...path, 'defaults']) };
  const ew = get(map, 'east_west');
  const eastWest = ew === undefined ? undefined : readBool(ctx, ew, [...path, 'east_west']);
  if (eastWest !== undefined) out.eastWest = eastWest;
  const t = get(map, 'target');
  const target = t === undefined ? undefined : readEnum(ctx, t, [...path, 'target'], TARGETS);
  if (target !== undefined) out.target = target;
  const r = get(map, 'registry');
  const registry = r === undefined ? undefined : readString(ctx, r, [...path, 'registry']);
  if (registry !== undefined && !REGISTRY.test(registry)) {
    ctx.issues.error(r!.pos, [...path, 'registry'], `invalid registry "${registry.slice(0, 60)}"`, 'expected a registry host with an optional port and path, e.g. 127.0.0.1:5000 or registry.example.com/team');
  } else if (registry !== undefined) out.registry = registry;
  return out;
}

export function readMeshOverrides(ctx: Ctx, node: YNode, path: PathSeg[]): MeshOverrides {
  const map = readMap(ctx, node, path);
  const o: MeshOverrides = {};
  if (map === undefined) return o;
  checkKeys(ctx, map, path, { supported: MESH_KEYS });
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    const v = e.value;
    switch (e.key) {
      case 'lb':
        set(o, 'lb', readEnum(ctx, v, p, LB_STRATEGIES));
        break;
      case 'protocol':
        set(o, 'protocol', readEnum(ctx, v, p, PROTOCOLS));
        break;
      case 'weight':
        set(o, 'weight', readNumber(ctx, v, p, { min: 0 }));
        break;
      case 'weights':
        if (v.kind !== 'seq') typeError(ctx, v, p, 'a list of numbers', 'e.g. `weights: [3, 1]` (replica 1 gets 3x traffic)');
        else o.weights = v.items.map((n, i) => readNumber(ctx, n, [...p, i], { min: 0 }) ?? 1);
        break;
      case 'retries':
        set(o, 'retries', readInt(ctx, v, p, { min: 0, max: 100 }));
        break;
      case 'health':
        o.health = readHealth(ctx, v, p);
        break;
      case 'timeouts':
        o.timeouts = readTimeouts(ctx, v, p);
        break;
      case 'bind': {
        const b = readString(ctx, v, p);
        if (b !== undefined && !BIND.test(b)) ctx.issues.error(v.pos, p, `invalid bind address "${b.slice(0, 60)}"`, 'expected an IP address like 127.0.0.1 or 0.0.0.0');
        else set(o, 'bind', b);
        break;
      }
      case 'hash_key': {
        const h = readString(ctx, v, p);
        if (h !== undefined && !HASH_KEY.test(h)) ctx.issues.error(v.pos, p, `invalid hash_key "${h.slice(0, 60)}"`, 'expected "header:<name>", "cookie:<name>" or "ip"');
        else set(o, 'hashKey', h);
        break;
      }
      case 'access_log':
        set(o, 'accessLog', readBool(ctx, v, p));
        break;
      case 'tls':
        set(o, 'tls', readTls(ctx, v, p));
        break;
      case 'rollout':
        o.rollout = readRollout(ctx, v, p);
        break;
      case 'mesh':
        set(o, 'mesh', readBool(ctx, v, p));
        break;
      case 'ports':
        if (v.kind !== 'seq') typeError(ctx, v, p, 'a list of container ports', 'e.g. `ports: [5432]`');
        else o.ports = v.items.map((n, i) => readInt(ctx, n, [...p, i], { min: 1, max: 65535 })).filter((n): n is number => n !== undefined);
        break;
      default:
        readPolicyKey(ctx, map, e, path, o);
    }
  }
  return o;
}

function set<K extends keyof MeshOverrides>(o: MeshOverrides, k: K, v: MeshOverrides[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

function readHealth(ctx: Ctx, node: YNode, path: PathSeg[]): HealthOverrides {
  const map = readMap(ctx, node, path, 'e.g. `health: {path: /healthz, interval: 2s}`');
  const h: HealthOverrides = {};
  if (map === undefined) return h;
  checkKeys(ctx, map, path, { supported: HEALTH_KEYS });
  each(map, path, (key, v, p) => {
    if (key === 'path') {
      const s = readString(ctx, v, p);
      if (s !== undefined && !s.startsWith('/')) ctx.issues.error(v.pos, p, `health path "${s.slice(0, 60)}" must start with "/"`);
      else if (s !== undefined) h.path = s;
    } else if (key === 'port') {
      const n = readInt(ctx, v, p, { min: 1, max: 65535 });
      if (n !== undefined) h.port = n;
    } else if (key === 'interval' || key === 'timeout') {
      const ms = readDuration(ctx, v, p);
      if (ms !== undefined) h[key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
    } else if (key === 'rise' || key === 'fall') {
      const n = readInt(ctx, v, p, { min: 1, max: 1000 });
      if (n !== undefined) h[key] = n;
    }
  });
  return h;
}

function readRollout(ctx: Ctx, node: YNode, path: PathSeg[]): { maxSurge?: number } {
  const map = readMap(ctx, node, path, 'e.g. `rollout: {max_surge: 2}`');
  const r: { maxSurge?: number } = {};
  if (map === undefined) return r;
  checkKeys(ctx, map, path, { supported: ROLLOUT_KEYS });
  each(map, path, (key, v, p) => {
    if (key !== 'max_surge') return;
    const n = readInt(ctx, v, p, { min: 1, max: 100 });
    if (n !== undefined) r.maxSurge = n;
  });
  return r;
}

function readTimeouts(ctx: Ctx, node: YNode, path: PathSeg[]): Partial<MeshSpec['timeouts']> {
  const map = readMap(ctx, node, path);
  const t: Partial<MeshSpec['timeouts']> = {};
  if (map === undefined) return t;
  checkKeys(ctx, map, path, { supported: TIMEOUT_KEYS });
  each(map, path, (key, v, p) => {
    if (!TIMEOUT_KEYS.has(key)) return;
    const ms = readDuration(ctx, v, p);
    if (ms !== undefined) t[`${key as 'connect' | 'request' | 'idle'}Ms`] = ms;
  });
  return t;
}

function each(map: YMap, path: PathSeg[], fn: (key: string, v: YNode, p: PathSeg[]) => void): void {
  for (const e of map.entries.values()) fn(e.key, e.value, [...path, e.key]);
}

const PROBE_URL = /\b(?:curl|wget)\b[^|;&]*?\b(https?:\/\/[^\s'"|;&)]+)/;

/** The HTTP path/port a compose healthcheck probes (`curl -f http://localhost:3000/healthz`), if it is such a probe. */
export function deriveHttpProbe(hc: HealthcheckSpec | undefined): { path: string; port: number } | undefined {
  if (hc === undefined || hc.disable || hc.test.length < 2) return undefined;
  const m = PROBE_URL.exec(hc.test.slice(1).join(' '));
  if (!m?.[1]) return undefined;
  let url: URL;
  try {
    url = new URL(m[1]);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:') return undefined;
  return { path: `${url.pathname}${url.search}`, port: url.port === '' ? 80 : Number(url.port) };
}

/** `h2c` and `grpc` are HTTP listeners (h1, h2 and h2c clients alike) in front of h2c replicas. */
function meshProtocol(declared: MeshOverrides['protocol']): MeshSpec['protocol'] {
  if (declared === undefined) return MESH_DEFAULTS.protocol;
  return declared === 'h2c' || declared === 'grpc' ? 'http' : declared;
}

/** Service overrides over project defaults over built-in defaults; health falls back to the compose healthcheck. */
export function resolveMesh(defaults: MeshOverrides, own: MeshOverrides, hc: HealthcheckSpec | undefined): MeshSpec {
  const explicitHealth = defaults.health !== undefined || own.health !== undefined;
  const derived = explicitHealth ? undefined : deriveHttpProbe(hc);
  const health: HealthProbe = { ...MESH_DEFAULTS.health, ...derived, ...defaults.health, ...own.health };
  const declared = own.protocol ?? defaults.protocol;
  const spec: MeshSpec = {
    lb: own.lb ?? defaults.lb ?? MESH_DEFAULTS.lb,
    protocol: meshProtocol(declared),
    weights: own.weights ?? defaults.weights ?? [],
    weight: own.weight ?? defaults.weight ?? MESH_DEFAULTS.weight,
    health,
    // `retry.attempts` supersedes `retries` (kept as an alias); the nearer level wins whichever key it used.
    retries: own.policy?.retry?.attempts ?? own.retries ?? defaults.policy?.retry?.attempts ?? defaults.retries ?? MESH_DEFAULTS.retries,
    timeouts: { ...MESH_DEFAULTS.timeouts, ...defaults.timeouts, ...own.timeouts },
    accessLog: own.accessLog ?? defaults.accessLog ?? MESH_DEFAULTS.accessLog,
    healthExplicit: explicitHealth || derived !== undefined,
  };
  const bind = own.bind ?? defaults.bind;
  if (bind !== undefined) spec.bind = bind;
  const hashKey = own.hashKey ?? defaults.hashKey;
  if (hashKey !== undefined) spec.hashKey = hashKey;
  const maxSurge = own.rollout?.maxSurge ?? defaults.rollout?.maxSurge;
  if (maxSurge !== undefined) spec.rollout = { maxSurge };
  if (declared !== undefined) spec.protocolExplicit = true;
  if (declared === 'h2c' || declared === 'grpc') spec.upstream = 'h2c';
  if (declared === 'grpc') spec.protocolAlias = 'grpc';
  const mesh = own.mesh ?? defaults.mesh;
  if (mesh === false) spec.eastWest = false;
  const ports = [...new Set([...(defaults.ports ?? []), ...(own.ports ?? [])])].sort((a, b) => a - b);
  if (ports.length > 0) spec.ports = ports;
  const policy = resolvePolicy(defaults, own);
  if (policy !== undefined) spec.policy = policy;
  const tls = own.tls ?? defaults.tls;
  if (tls) spec.tls = tls;
  return spec;
}

/** Keys that are valid alone but not together; `path` is the service's x-cmesh, `ownTls` its own `tls` key is set. */
export function checkMeshCombinations(ctx: Ctx, svc: ServiceSpec, at: SourcePosition, path: PathSeg[], ownTls: boolean): void {
  const { mesh, name: service } = svc;
  if (mesh.hashKey !== undefined && mesh.lb !== 'ring-hash') {
    ctx.issues.warn(at, [...path, 'hash_key'], `hash_key only applies to lb "ring-hash" (this service uses "${mesh.lb}")`);
  }
  // TLS is terminated by the HTTP proxy only: a tcp listener would serve the port in clear, so it is refused.
  if (mesh.tls !== undefined && mesh.protocol === 'tcp') {
    ctx.issues.error(at, [...path, 'tls'], `service "${service}" asks for x-cmesh.tls on a tcp listener`, 'x-cmesh.tls serves HTTP ports: drop it, or use protocol: http');
  }
  // TLS is served on published ports only (east-west stays in clear); said for the service's own key, not for defaults.
  if (ownTls && mesh.tls !== undefined && !svc.ports.some((p) => p.published !== undefined && p.protocol === 'tcp') && ctx.issues.canWarn) {
    ctx.issues.warn(at, [...path, 'tls'], `x-cmesh.tls has no effect: service "${service}" publishes no TCP port (TLS is served on published ports only)`);
  }
}
