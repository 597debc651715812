// `services.<name>.networks`: a list of names, or a mapping with each endpoint's aliases, static addresses, MAC, connect
// priority and driver options. Whether a static address fits its network is checked once all networks are read.

import { isIP } from 'node:net';
import type { NetworkSpec, ServiceNetwork, ServiceSpec } from '../../api/project.ts';
import { setOwn, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { SERVICE_NETWORK_KEYS } from '../schema.ts';
import { readOptionMap } from './container-options-read.ts';
import { checkKeys, type Ctx, readInt, readMap, readString, readStringList, typeError } from './read.ts';

export interface NetworkRef {
  name: string;
  node: YNode;
  path: PathSeg[];
  /** Where `ipv4_address` / `ipv6_address` was written, to point at it when the network has no matching subnet. */
  staticAddress?: { node: YNode; path: PathSeg[] };
}

export function readServiceNetworks(ctx: Ctx, node: YNode, path: PathSeg[], refs: NetworkRef[]): ServiceSpec['networks'] {
  const out: ServiceSpec['networks'] = {};
  if (node.kind === 'seq') {
    node.items.forEach((item, i) => {
      const n = readString(ctx, item, [...path, i]);
      if (n === undefined) return;
      setOwn(out, n, { aliases: [] });
      refs.push({ name: n, node: item, path: [...path, i] });
    });
    return out;
  }
  if (node.kind !== 'map') {
    typeError(ctx, node, path, 'a list of network names or a mapping');
    return out;
  }
  for (const e of node.entries.values()) {
    const p = [...path, e.key];
    const ref: NetworkRef = { name: e.key, node: { ...e.value, pos: e.keyPos }, path: p };
    refs.push(ref);
    const m = e.value.kind === 'scalar' && e.value.value === null ? undefined : readMap(ctx, e.value, p);
    setOwn(out, e.key, m === undefined ? { aliases: [] } : readEndpoint(ctx, m, p, ref));
  }
  return out;
}

function readAddress(ctx: Ctx, node: YNode, path: PathSeg[], family: 4 | 6): string | undefined {
  const s = readString(ctx, node, path);
  if (s === undefined) return undefined;
  if (isIP(s) === family) return s;
  ctx.issues.error(node.pos, path, `"${s.slice(0, 60)}" is not an IPv${family} address`, family === 4 ? 'write it like 10.213.0.10' : 'write it like fd00:213::10');
  return undefined;
}

function readEndpoint(ctx: Ctx, m: YMap, p: PathSeg[], ref: NetworkRef): ServiceNetwork {
  checkKeys(ctx, m, p, { supported: SERVICE_NETWORK_KEYS });
  const out: ServiceNetwork = { aliases: [] };
  for (const e of m.entries.values()) {
    const at = [...p, e.key];
    const v = e.value;
    if (v.kind === 'scalar' && v.value === null) continue;
    switch (e.key) {
      case 'aliases':
        out.aliases = readStringList(ctx, v, at) ?? [];
        break;
      case 'ipv4_address':
      case 'ipv6_address': {
        const ip = readAddress(ctx, v, at, e.key === 'ipv4_address' ? 4 : 6);
        if (ip === undefined) break;
        if (e.key === 'ipv4_address') out.ipv4Address = ip;
        else out.ipv6Address = ip;
        ref.staticAddress ??= { node: v, path: at };
        break;
      }
      case 'link_local_ips': {
        const ips = readStringList(ctx, v, at);
        const bad = ips?.find((ip) => isIP(ip) === 0);
        if (bad !== undefined) ctx.issues.error(v.pos, at, `"${bad.slice(0, 60)}" is not an IP address`, 'write link-local addresses like 169.254.8.8 or fe80::8');
        else if (ips !== undefined) out.linkLocalIps = ips;
        break;
      }
      case 'mac_address': {
        const mac = readString(ctx, v, at);
        if (mac !== undefined && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) out.macAddress = mac;
        else if (mac !== undefined) ctx.issues.error(v.pos, at, `"${mac.slice(0, 60)}" is not a MAC address`, 'write it like 02:42:ac:11:00:02');
        break;
      }
      case 'priority':
      case 'gw_priority': {
        const n = readInt(ctx, v, at);
        if (n !== undefined && e.key === 'priority') out.priority = n;
        else if (n !== undefined) out.gwPriority = n;
        break;
      }
      case 'driver_opts': {
        const opts = readOptionMap(ctx, v, at);
        if (opts !== undefined && Object.keys(opts).length > 0) out.driverOpts = opts;
        break;
      }
      case 'interface_name': {
        const name = readString(ctx, v, at);
        if (name !== undefined) out.interfaceName = name;
        break;
      }
    }
  }
  return out;
}

/**
 * A static address needs a network the project creates with a subnet of its own (the engine refuses it on others), and
 * gives one container that address: a service with several replicas would collide on it.
 */
export function checkStaticAddresses(ctx: Ctx, service: ServiceSpec, refs: NetworkRef[], networks: Record<string, NetworkSpec>): void {
  for (const ref of refs) {
    if (ref.staticAddress === undefined) continue;
    const { node, path } = ref.staticAddress;
    if (service.replicas > 1) {
      ctx.issues.error(node.pos, path, `service "${service.name}" has a static address on network "${ref.name}" but runs ${service.replicas} replicas`, 'a static address fits one container: drop it, or run one replica');
      continue;
    }
    const net = Object.hasOwn(networks, ref.name) ? networks[ref.name] : undefined;
    if (net === undefined || net.external) continue; // an undefined network is reported elsewhere; an external one is the engine's to judge
    if (!(net.ipam?.config.some((c) => c.subnet !== undefined) ?? false)) {
      ctx.issues.error(node.pos, path, `service "${service.name}" sets a static address on network "${ref.name}", which has no subnet of its own`, `give networks.${ref.name} an \`ipam: { config: [{ subnet: … }] }\``);
    }
  }
}
