// One `services.<name>` mapping → ServiceSpec. Cross-service checks (deps, named volumes, networks) happen in
// document.ts once every service is known; here we only remember where those references were written.

import { bindAddress } from '../../api/bind-address.ts';
import type { EnvFileValues, PullPolicy, RestartPolicy, ServiceSpec } from '../../api/project.ts';
import { get, type YEntry, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { DEPLOY_KEYS, DEPLOY_UNSUPPORTED, RESTART_VALUES, SERVICE_KEYS, SERVICE_UNSUPPORTED } from '../schema.ts';
import { checkMeshCombinations, type MeshOverrides, readMeshOverrides, resolveMesh } from '../x-cmesh.ts';
import { readBuild } from './build.ts';
import { readCommand } from './command.ts';
import { readContainerOptions } from './container-options.ts';
import { type DeployResult, readDeploy } from './deploy.ts';
import { type DependencyNodes, readDependsOn } from './depends-on.ts';
import { readEnvironment, readLabels } from './environment.ts';
import { readFileGrants } from './file-grants.ts';
import { readHealthcheck } from './healthcheck.ts';
import { readLifecycleHooks } from './lifecycle-hooks.ts';
import { readPorts } from './ports.ts';
import { readPlatform, readPullPolicy, readRefreshPolicy } from './pull-policy.ts';
import { checkKeys, type Ctx, readBool, readDuration, readInt, readMap, readString, readStringList, typeError } from './read.ts';
import { type LinkAlias, readExternalLinks, readLinks, readVolumesFrom } from './service-links.ts';
import { type NetworkRef, readServiceNetworks } from './service-networks.ts';
import { readVolumes, type VolumeRef } from './volumes.ts';
import { readDevelop } from './watch.ts';

export interface ServiceRefs {
  deps: DependencyNodes;
  volumes: VolumeRef[];
  networks: NetworkRef[];
  /** Names of top-level secrets / configs the service grants itself. */
  secrets: { name: string; node: YNode; path: PathSeg[] }[];
  configs: { name: string; node: YNode; path: PathSeg[] }[];
  /** `links` aliases to give the linked services (applied once all services are read). */
  linkAliases: LinkAlias[];
}

export function readService(ctx: Ctx, entry: YEntry, meshDefaults: MeshOverrides): { spec: ServiceSpec; refs: ServiceRefs } | undefined {
  const name = entry.key;
  const path: PathSeg[] = ['services', name];
  const refs: ServiceRefs = { deps: new Map(), volumes: [], networks: [], secrets: [], configs: [], linkAliases: [] };
  const map = entry.value;
  if (map.kind !== 'map') {
    typeError(ctx, map, path, 'a mapping', 'a service needs at least `image:` or `build:`');
    return undefined;
  }
  checkKeys(ctx, map, path, { supported: SERVICE_KEYS, unsupported: SERVICE_UNSUPPORTED });
  const envFiles: EnvFileValues[] = [];
  const spec: ServiceSpec = {
    name,
    environment: readEnvironment(ctx, map, path, envFiles),
    ports: [],
    expose: [],
    replicas: 1,
    dependsOn: {},
    restart: 'on-failure',
    labels: readLabels(ctx, map, path),
    volumes: [],
    networks: {},
    stopGracePeriodMs: 10_000,
    profiles: [],
    watch: [],
    mesh: resolveMesh(meshDefaults, {}, undefined),
    position: entry.keyPos,
  };
  if (envFiles.length > 0) spec.envFiles = envFiles;
  let meshOwn: MeshOverrides = {};
  let scale: { n: number; node: YNode } | undefined;
  let replicas: { n: number; node: YNode } | undefined;
  let deploy: DeployResult | undefined;
  let pullPolicy: { value: PullPolicy | 'refresh' | undefined; node?: YNode } = { value: undefined };
  let pullRefreshAfter: YNode | undefined;
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    const v = e.value;
    switch (e.key) {
      case 'image':
        assign(spec, 'image', readString(ctx, v, p));
        break;
      case 'build':
        assign(spec, 'build', readBuild(ctx, v, p));
        break;
      case 'pull_policy':
        pullPolicy = { value: readPullPolicy(ctx, v, p), node: v };
        break;
      case 'pull_refresh_after':
        pullRefreshAfter = v;
        break;
      case 'platform':
        assign(spec, 'platform', readPlatform(ctx, v, p));
        break;
      case 'command':
      case 'entrypoint':
        assign(spec, e.key, readCommand(ctx, v, p));
        break;
      case 'ports':
        spec.ports = readPorts(ctx, v, p);
        break;
      case 'expose':
        spec.expose = readExpose(ctx, v, p);
        break;
      case 'scale': {
        const n = readInt(ctx, v, p, { min: 0, max: 1000 });
        if (n !== undefined) scale = { n, node: v };
        break;
      }
      case 'deploy': {
        const d = readMap(ctx, v, p);
        if (d === undefined) break;
        checkKeys(ctx, d, p, { supported: DEPLOY_KEYS, unsupported: DEPLOY_UNSUPPORTED });
        deploy = readDeploy(ctx, d, p, spec);
        if (deploy.replicas !== undefined) replicas = deploy.replicas;
        break;
      }
      case 'healthcheck': {
        const hc = readMap(ctx, v, p);
        if (hc !== undefined) spec.healthcheck = readHealthcheck(ctx, hc, p);
        break;
      }
      case 'depends_on':
        spec.dependsOn = readDependsOn(ctx, v, p, refs.deps);
        break;
      case 'restart': {
        // Compose v2: deploy.restart_policy, when set, replaces `restart` whatever the order in the file.
        const d = get(map, 'deploy');
        const overridden = d?.kind === 'map' && get(d, 'restart_policy') !== undefined;
        readRestart(ctx, v, p, overridden ? { ...spec } : spec);
        if (overridden && ctx.issues.canWarn) ctx.issues.warn(e.keyPos, p, '`restart` is overridden by deploy.restart_policy (as in Compose)');
        break;
      }
      case 'volumes':
        spec.volumes = readVolumes(ctx, v, p, refs.volumes);
        break;
      case 'networks':
        spec.networks = readServiceNetworks(ctx, v, p, refs.networks);
        break;
      case 'use_api_socket':
        if (readBool(ctx, v, p) === true) spec.useApiSocket = true;
        break;
      case 'attach':
        if (readBool(ctx, v, p) === false) spec.attach = false;
        break;
      case 'working_dir':
        assign(spec, 'workingDir', readString(ctx, v, p));
        break;
      case 'user':
        assign(spec, 'user', readString(ctx, v, p, { coerce: true }));
        break;
      case 'stop_signal':
        assign(spec, 'stopSignal', readString(ctx, v, p));
        break;
      case 'stop_grace_period':
        spec.stopGracePeriodMs = readDuration(ctx, v, p) ?? spec.stopGracePeriodMs;
        break;
      case 'profiles':
        spec.profiles = readStringList(ctx, v, p) ?? [];
        break;
      case 'post_start':
      case 'pre_stop': {
        const hooks = readLifecycleHooks(ctx, v, p);
        if (hooks.length > 0) spec[e.key === 'post_start' ? 'postStart' : 'preStop'] = hooks;
        break;
      }
      case 'develop':
        spec.watch = readDevelop(ctx, v, p);
        break;
      case 'secrets':
      case 'configs': {
        const kind = e.key === 'secrets' ? 'secret' : 'config';
        const grants = readFileGrants(ctx, v, p, kind, refs[e.key]);
        if (grants.length > 0) spec[e.key] = grants;
        break;
      }
      case 'x-cmesh':
        meshOwn = readMeshOverrides(ctx, v, p);
        break;
    }
  }
  if (scale !== undefined && replicas !== undefined && scale.n !== replicas.n) {
    ctx.issues.error(scale.node.pos, [...path, 'scale'], `scale (${scale.n}) and deploy.replicas (${replicas.n}) disagree`, 'set only one of them');
  }
  spec.replicas = scale?.n ?? replicas?.n ?? 1;
  if (deploy?.global !== undefined) {
    // Swarm's global mode runs one task per node; this is one node.
    if (scale !== undefined || replicas !== undefined) {
      ctx.issues.error(deploy.global.node.pos, [...path, 'deploy', 'mode'], 'deploy.mode "global" runs one replica per node and cannot be combined with a replica count', 'drop `replicas`/`scale`, or use `mode: replicated`');
    }
    spec.replicas = 1;
  }
  const options = readContainerOptions(ctx, map, path);
  if (options !== undefined) spec.options = options;
  if (options !== undefined) joinNamespaces(ctx, map, path, spec, refs);
  readNeighbours(ctx, map, path, spec, refs);
  if (options?.containerName !== undefined && spec.replicas > 1) {
    const at = map.entries.get('container_name')?.keyPos ?? entry.keyPos;
    ctx.issues.error(at, [...path, 'container_name'], `service "${name}" sets container_name but runs ${spec.replicas} replicas`, 'a container name is unique: drop container_name to run several replicas');
  }
  if (spec.image === undefined && spec.build === undefined && !map.entries.has('image') && !map.entries.has('build')) {
    ctx.issues.error(entry.keyPos, path, `service "${name}" has neither an image nor a build context`, 'add `image: <name>` or `build: <dir>`');
  }
  assign(spec, 'pullPolicy', readRefreshPolicy(ctx, pullPolicy, pullRefreshAfter, path));
  if (spec.pullPolicy === 'build' && spec.build === undefined && map.entries.has('pull_policy')) {
    const node = get(map, 'pull_policy');
    ctx.issues.error(node?.pos ?? entry.keyPos, [...path, 'pull_policy'], `pull_policy "build" needs a build section to build from`, 'add `build: <dir>` or choose another pull_policy');
  }
  if (!map.entries.has('networks') && spec.options?.networkMode === undefined) {
    spec.networks = { default: { aliases: [] } };
  }
  spec.mesh = resolveMesh(meshDefaults, meshOwn, spec.healthcheck);
  checkMeshCombinations(ctx, spec, entry.keyPos, [...path, 'x-cmesh'], meshOwn.tls !== undefined);
  for (const port of spec.ports) if (port.published !== undefined) port.hostIp = bindAddress(port, spec.mesh);
  return { spec, refs };
}

function assign<K extends keyof ServiceSpec>(spec: ServiceSpec, key: K, value: ServiceSpec[K] | undefined): void {
  if (value !== undefined) spec[key] = value;
}

function readExpose(ctx: Ctx, node: YNode, path: PathSeg[]): number[] {
  if (node.kind !== 'seq') {
    typeError(ctx, node, path, 'a list of ports');
    return [];
  }
  const out: number[] = [];
  node.items.forEach((item, i) => {
    const raw = item.kind === 'scalar' && item.value !== null ? String(item.value) : '';
    const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp))?$/.exec(raw);
    const a = Number(m?.[1]);
    const b = m?.[2] === undefined ? a : Number(m[2]);
    if (!m || a < 1 || b > 65535 || b < a || b - a > 1000) {
      ctx.issues.error(item.pos, [...path, i], `invalid exposed port "${raw.slice(0, 60)}"`, 'expected a port like "3000" or "3000-3005"');
      return;
    }
    for (let port = a; port <= b; port++) if (!out.includes(port)) out.push(port);
  });
  return out;
}

function readRestart(ctx: Ctx, node: YNode, path: PathSeg[], spec: ServiceSpec): void {
  const hint = 'expected no, always, on-failure[:N] or unless-stopped';
  const s = readString(ctx, node, path, { hint });
  if (s === undefined) return;
  const m = /^on-failure:(\d{1,6})$/.exec(s);
  if (m) {
    spec.restart = 'on-failure';
    spec.restartMaxRetries = Number(m[1]);
  } else if ((RESTART_VALUES as readonly string[]).includes(s)) {
    spec.restart = s as RestartPolicy;
  } else {
    ctx.issues.error(node.pos, path, `invalid restart policy "${s.slice(0, 60)}"`, hint);
  }
}

/** `volumes_from`, `links`, `external_links` (service-links.ts). */
function readNeighbours(ctx: Ctx, map: YMap, path: PathSeg[], spec: ServiceSpec, refs: ServiceRefs): void {
  const from = get(map, 'volumes_from');
  const volumesFrom = from === undefined ? [] : readVolumesFrom(ctx, from, [...path, 'volumes_from'], spec, refs.deps);
  const ext = get(map, 'external_links');
  const externalLinks = ext === undefined ? [] : readExternalLinks(ctx, ext, [...path, 'external_links']);
  if (volumesFrom.length > 0) spec.options = { ...spec.options, volumesFrom };
  if (externalLinks.length > 0) spec.options = { ...spec.options, externalLinks };
  const links = get(map, 'links');
  if (links !== undefined) readLinks(ctx, links, [...path, 'links'], spec, refs.deps, refs.linkAliases);
}

/**
 * `network_mode` replaces the project networks (and so the ports: the mesh cannot reach such a service), and
 * `service:<name>` in network_mode, ipc, pid or uts needs that service's first replica to exist first: an implicit
 * `depends_on` (condition service_started), as Compose adds.
 */
function joinNamespaces(ctx: Ctx, map: YMap, path: PathSeg[], spec: ServiceSpec, refs: ServiceRefs): void {
  const o = spec.options;
  if (o === undefined) return;
  if (o.networkMode !== undefined) {
    const at = map.entries.get('network_mode')!;
    if (map.entries.has('networks')) {
      ctx.issues.error(at.keyPos, [...path, 'network_mode'], '`network_mode` and `networks` cannot be combined', 'keep one of them');
    }
    if (spec.ports.length > 0 || spec.expose.length > 0) {
      ctx.issues.error(at.keyPos, [...path, 'network_mode'], `a service with network_mode "${o.networkMode}" cannot publish or expose ports: cmesh's proxy cannot reach it`, 'drop `ports`/`expose`, or the network_mode');
    }
  }
  for (const [key, mode] of [['network_mode', o.networkMode], ['ipc', o.ipc], ['pid', o.pid], ['uts', o.uts]] as const) {
    if (!mode?.startsWith('service:')) continue;
    const dep = mode.slice('service:'.length);
    const at = map.entries.get(key)!;
    if (dep === spec.name) {
      ctx.issues.error(at.value.pos, [...path, key], `service "${spec.name}" cannot join its own ${key === 'network_mode' ? 'network' : key} namespace`);
      continue;
    }
    if (!Object.hasOwn(spec.dependsOn, dep)) {
      spec.dependsOn[dep] = { condition: 'service_started', restart: false, required: true };
      refs.deps.set(dep, { node: at.value, path: [...path, key] });
    }
  }
}
