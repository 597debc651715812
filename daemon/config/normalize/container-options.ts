// The service keys Docker Engine expresses per container (namespaces, capabilities, DNS, devices, logging…) →
// ContainerOptions. Resource limits live in container-resources.ts. Each value is checked here, once, with its position.

import type { ContainerOptions, DeviceMapping, ExtraHost, Ulimit } from '../../api/container-options.ts';
import { get, setOwn, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { readBytes, readOptionMap, readStringMap, readStringOrList } from './container-options-read.ts';
import { readResources } from './container-resources.ts';
import { checkKeys, type Ctx, readBool, readEnum, readInt, readMap, readString, readStringList, typeError } from './read.ts';

/** Docker's rule for container names. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const NAMESPACE_MODE = /^(?:host|private|shareable|none|(?:service|container):[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/;

type Reader = (ctx: Ctx, node: YNode, path: PathSeg[], out: ContainerOptions) => void;

const str = (key: 'hostname' | 'domainname' | 'macAddress' | 'cgroupParent' | 'runtime'): Reader => (ctx, node, path, out) => {
  const s = readString(ctx, node, path);
  if (s !== undefined && s !== '') out[key] = s;
};
const bool = (key: 'privileged' | 'readOnly' | 'init' | 'stdinOpen' | 'tty'): Reader => (ctx, node, path, out) => {
  const b = readBool(ctx, node, path);
  if (b !== undefined) out[key] = b;
};
const list = (key: 'capAdd' | 'capDrop' | 'securityOpt' | 'dnsOptions' | 'deviceCgroupRules' | 'groupAdd'): Reader => (ctx, node, path, out) => {
  const l = readStringList(ctx, node, path, { coerce: true });
  if (l !== undefined) out[key] = [...new Set(l)];
};
const stringOrList = (key: 'dns' | 'dnsSearch'): Reader => (ctx, node, path, out) => {
  const l = readStringOrList(ctx, node, path);
  if (l !== undefined) out[key] = l;
};
const namespace = (key: 'pid' | 'ipc' | 'uts' | 'userns'): Reader => (ctx, node, path, out) => {
  if (node.kind === 'scalar' && node.value === null) return;
  const s = readString(ctx, node, path);
  if (s === undefined || s === '') return;
  if (!NAMESPACE_MODE.test(s)) {
    ctx.issues.error(node.pos, path, `invalid mode "${s.slice(0, 60)}"`, 'expected host, private, shareable, none, service:<name> or container:<name>');
    return;
  }
  out[key] = s;
};

/** Compose key → reader. Resource keys are read by readResources (they also come from deploy.resources). */
const READERS: Record<string, Reader> = {
  annotations: (ctx, node, path, out) => {
    const m = readStringMap(ctx, node, path);
    if (Object.keys(m).length > 0) out.annotations = m;
  },
  container_name: (ctx, node, path, out) => {
    const s = readString(ctx, node, path);
    if (s === undefined) return;
    if (!CONTAINER_NAME.test(s)) ctx.issues.error(node.pos, path, `invalid container name "${s.slice(0, 60)}"`, 'use letters, digits, "_", "." and "-", starting with a letter or digit');
    else out.containerName = s;
  },
  hostname: str('hostname'),
  domainname: str('domainname'),
  mac_address: str('macAddress'),
  cap_add: list('capAdd'),
  cap_drop: list('capDrop'),
  privileged: bool('privileged'),
  read_only: bool('readOnly'),
  init: bool('init'),
  stdin_open: bool('stdinOpen'),
  tty: bool('tty'),
  runtime: str('runtime'),
  cgroup_parent: str('cgroupParent'),
  security_opt: list('securityOpt'),
  dns_opt: list('dnsOptions'),
  device_cgroup_rules: list('deviceCgroupRules'),
  group_add: list('groupAdd'),
  dns: stringOrList('dns'),
  dns_search: stringOrList('dnsSearch'),
  pid: namespace('pid'),
  ipc: namespace('ipc'),
  uts: namespace('uts'),
  userns_mode: namespace('userns'),
  network_mode: (ctx, node, path, out) => {
    const s = readString(ctx, node, path);
    if (s === undefined) return;
    if (!/^(?:host|none|bridge|(?:service|container):[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/.test(s)) {
      ctx.issues.error(node.pos, path, `invalid network_mode "${s.slice(0, 60)}"`, 'expected host, none, bridge, service:<name> or container:<name>');
      return;
    }
    out.networkMode = s;
  },
  cgroup: (ctx, node, path, out) => {
    const c = readEnum(ctx, node, path, ['host', 'private'] as const);
    if (c !== undefined) out.cgroup = c;
  },
  shm_size: (ctx, node, path, out) => {
    const n = readBytes(ctx, node, path);
    if (n !== undefined) out.shmSizeBytes = n;
  },
  sysctls: (ctx, node, path, out) => {
    out.sysctls = readStringMap(ctx, node, path);
  },
  storage_opt: (ctx, node, path, out) => {
    const m = readOptionMap(ctx, node, path);
    if (m !== undefined) out.storageOpt = m;
  },
  ulimits: (ctx, node, path, out) => {
    const u = readUlimits(ctx, node, path);
    if (u !== undefined) out.ulimits = u;
  },
  tmpfs: (ctx, node, path, out) => {
    const l = readStringOrList(ctx, node, path);
    if (l === undefined) return;
    const mounts: Record<string, string> = {};
    l.forEach((entry, i) => {
      const colon = entry.indexOf(':');
      const target = colon === -1 ? entry : entry.slice(0, colon);
      if (!target.startsWith('/')) {
        const at = node.kind === 'seq' ? (node.items[i]?.pos ?? node.pos) : node.pos;
        ctx.issues.error(at, [...path, i], `tmpfs target "${target.slice(0, 60)}" is not an absolute path`, 'write it like /run or /tmp:size=64m,mode=1777');
        return;
      }
      setOwn(mounts, target, colon === -1 ? '' : entry.slice(colon + 1));
    });
    out.tmpfs = mounts;
  },
  devices: (ctx, node, path, out) => {
    const d = readDevices(ctx, node, path);
    if (d !== undefined) out.devices = d;
  },
  extra_hosts: (ctx, node, path, out) => {
    const h = readExtraHosts(ctx, node, path);
    if (h !== undefined) out.extraHosts = h;
  },
  logging: (ctx, node, path, out) => {
    const m = readMap(ctx, node, path);
    if (m === undefined) return;
    checkKeys(ctx, m, path, { supported: new Set(['driver', 'options']) });
    const driverNode = get(m, 'driver');
    const optionsNode = get(m, 'options');
    const driver = driverNode === undefined ? undefined : readString(ctx, driverNode, [...path, 'driver']);
    const options = optionsNode === undefined ? {} : (readOptionMap(ctx, optionsNode, [...path, 'options']) ?? {});
    out.logging = { ...(driver ? { driver } : {}), options };
  },
};

/** The compose service keys this module reads (schema.ts lists them as supported). */
export const CONTAINER_OPTION_KEYS: readonly string[] = Object.keys(READERS);

/** Reads every container-level key of one service; undefined when none is set (so specs without them hash as before). */
export function readContainerOptions(ctx: Ctx, service: YMap, path: PathSeg[]): ContainerOptions | undefined {
  const out: ContainerOptions = {};
  for (const e of service.entries.values()) {
    const reader = READERS[e.key];
    if (reader && !(e.value.kind === 'scalar' && e.value.value === null)) reader(ctx, e.value, [...path, e.key], out);
  }
  const resources = readResources(ctx, service, path);
  if (resources !== undefined) out.resources = resources;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function readUlimits(ctx: Ctx, node: YNode, path: PathSeg[]): Record<string, Ulimit> | undefined {
  const m = readMap(ctx, node, path);
  if (m === undefined) return undefined;
  const out: Record<string, Ulimit> = {};
  for (const e of m.entries.values()) {
    const p = [...path, e.key];
    if (e.value.kind === 'map') {
      checkKeys(ctx, e.value, p, { supported: new Set(['soft', 'hard']) });
      const softNode = get(e.value, 'soft');
      const hardNode = get(e.value, 'hard');
      if (softNode === undefined || hardNode === undefined) {
        ctx.issues.error(e.value.pos, p, `ulimit "${e.key}" needs both soft and hard`, 'write { soft: 1024, hard: 2048 } or a single number');
        continue;
      }
      const soft = readInt(ctx, softNode, [...p, 'soft'], { min: -1 });
      const hard = readInt(ctx, hardNode, [...p, 'hard'], { min: -1 });
      if (soft === undefined || hard === undefined) continue;
      if (hard !== -1 && (soft === -1 || soft > hard)) {
        ctx.issues.error(e.value.pos, p, `ulimit "${e.key}": soft (${soft}) is above hard (${hard})`, 'the soft limit must not exceed the hard one');
        continue;
      }
      setOwn(out, e.key, { soft, hard });
    } else {
      const n = readInt(ctx, e.value, p, { min: -1 });
      if (n !== undefined) setOwn(out, e.key, { soft: n, hard: n });
    }
  }
  return out;
}

function readDevices(ctx: Ctx, node: YNode, path: PathSeg[]): DeviceMapping[] | undefined {
  if (node.kind !== 'seq') return typeError(ctx, node, path, 'a list of devices');
  const out: DeviceMapping[] = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    if (item.kind === 'map') {
      checkKeys(ctx, item, p, { supported: new Set(['source', 'target', 'permissions']) });
      const src = get(item, 'source');
      const source = src === undefined ? undefined : readString(ctx, src, [...p, 'source']);
      if (source === undefined) {
        if (src === undefined) ctx.issues.error(item.pos, p, 'a device needs `source`', 'the host path, e.g. /dev/fuse');
        return;
      }
      const t = get(item, 'target');
      const perms = get(item, 'permissions');
      const target = t === undefined ? source : (readString(ctx, t, [...p, 'target']) ?? source);
      const permissions = perms === undefined ? 'rwm' : (readString(ctx, perms, [...p, 'permissions']) ?? 'rwm');
      out.push({ source, target, permissions });
      return;
    }
    const s = readString(ctx, item, p, { hint: 'expected "/dev/host[:/dev/container[:rwm]]"' });
    if (s === undefined) return;
    const [source = '', target = source, permissions = 'rwm', ...extra] = s.split(':');
    if (source === '' || extra.length > 0 || !/^[rwm]{1,3}$/.test(permissions)) {
      ctx.issues.error(item.pos, p, `invalid device "${s.slice(0, 60)}"`, 'expected "/dev/host[:/dev/container[:rwm]]"');
      return;
    }
    out.push({ source, target, permissions });
  });
  return out;
}

/** `host:ip`, `host=ip` (Compose accepts both), `[::1]` brackets, or a mapping host → ip (or a list of ips). */
export function readExtraHosts(ctx: Ctx, node: YNode, path: PathSeg[]): ExtraHost[] | undefined {
  const out: ExtraHost[] = [];
  const add = (host: string, ip: string, at: YNode, p: PathSeg[]): void => {
    const clean = ip.replace(/^\[(.*)\]$/, '$1');
    if (host === '' || clean === '') ctx.issues.error(at.pos, p, `invalid extra host "${host}:${ip}"`.slice(0, 80), 'expected "name:ip", "name=ip" or "name:host-gateway"');
    else out.push({ host, ip: clean });
  };
  if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      const ips = readStringOrList(ctx, e.value, [...path, e.key]);
      for (const ip of ips ?? []) add(e.key, ip, e.value, [...path, e.key]);
    }
    return out;
  }
  if (node.kind !== 'seq') return typeError(ctx, node, path, 'a list of "name:ip" or a mapping');
  node.items.forEach((item, i) => {
    const s = readString(ctx, item, [...path, i]);
    if (s === undefined) return;
    const eq = s.indexOf('=');
    const colon = s.indexOf(':');
    const at = eq !== -1 ? eq : colon;
    if (at === -1) ctx.issues.error(item.pos, [...path, i], `invalid extra host "${s.slice(0, 60)}"`, 'expected "name:ip", "name=ip" or "name:host-gateway"');
    else add(s.slice(0, at), s.slice(at + 1), item, [...path, i]);
  });
  return out;
}
