// Top-level network options beyond name/driver/labels: `driver_opts`, `attachable`, `enable_ipv4`, `enable_ipv6` and
// `ipam` (driver, pools with subnet/ip_range/gateway/aux_addresses, options), all passed to the engine's create.

import { isIP } from 'node:net';
import type { IpamPool, IpamSpec, NetworkSpec } from '../../api/project.ts';
import { get, setOwn, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { IPAM_KEYS, IPAM_POOL_KEYS } from '../schema.ts';
import { readOptionMap } from './container-options-read.ts';
import { checkKeys, type Ctx, readBool, readMap, readString, typeError } from './read.ts';

export function readNetworkOptions(ctx: Ctx, m: YMap, p: PathSeg[], net: NetworkSpec): void {
  const opts = get(m, 'driver_opts');
  const driverOpts = opts === undefined ? undefined : readOptionMap(ctx, opts, [...p, 'driver_opts']);
  if (driverOpts !== undefined && Object.keys(driverOpts).length > 0) net.driverOpts = driverOpts;
  for (const [key, field] of [['attachable', 'attachable'], ['enable_ipv6', 'enableIpv6'], ['enable_ipv4', 'enableIpv4']] as const) {
    const n = get(m, key);
    const v = n === undefined ? undefined : readBool(ctx, n, [...p, key]);
    if (v !== undefined) net[field] = v;
  }
  const ipam = get(m, 'ipam');
  const spec = ipam === undefined ? undefined : readIpam(ctx, ipam, [...p, 'ipam']);
  if (spec !== undefined) net.ipam = spec;
}

function readIpam(ctx: Ctx, node: YNode, path: PathSeg[]): IpamSpec | undefined {
  const m = readMap(ctx, node, path);
  if (m === undefined) return undefined;
  checkKeys(ctx, m, path, { supported: IPAM_KEYS });
  const out: IpamSpec = { config: [] };
  const driver = get(m, 'driver');
  const d = driver === undefined ? undefined : readString(ctx, driver, [...path, 'driver']);
  if (d !== undefined) out.driver = d;
  const options = get(m, 'options');
  const o = options === undefined ? undefined : readOptionMap(ctx, options, [...path, 'options']);
  if (o !== undefined && Object.keys(o).length > 0) out.options = o;
  const config = get(m, 'config');
  if (config !== undefined && config.kind === 'seq') {
    config.items.forEach((item, i) => {
      const pool = readPool(ctx, item, [...path, 'config', i]);
      if (pool !== undefined) out.config.push(pool);
    });
  } else if (config !== undefined && !(config.kind === 'scalar' && config.value === null)) {
    typeError(ctx, config, [...path, 'config'], 'a list of pools', 'write `config: [{ subnet: 10.213.0.0/24 }]`');
  }
  return out;
}

/** `10.213.0.0/24` or `fd00:213::/64`. */
function isCidr(s: string): boolean {
  const [ip = '', bits, extra] = s.split('/');
  const family = isIP(ip);
  if (family === 0 || bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function readPool(ctx: Ctx, node: YNode, path: PathSeg[]): IpamPool | undefined {
  const m = readMap(ctx, node, path);
  if (m === undefined) return undefined;
  checkKeys(ctx, m, path, { supported: IPAM_POOL_KEYS });
  const pool: IpamPool = {};
  const text = (key: string, valid: (s: string) => boolean, expected: string): string | undefined => {
    const n = get(m, key);
    const s = n === undefined ? undefined : readString(ctx, n, [...path, key]);
    if (s === undefined || valid(s)) return s;
    ctx.issues.error(n!.pos, [...path, key], `"${s.slice(0, 60)}" is not ${expected}`);
    return undefined;
  };
  const subnet = text('subnet', isCidr, 'a subnet like 10.213.0.0/24');
  if (subnet !== undefined) pool.subnet = subnet;
  const range = text('ip_range', isCidr, 'a range like 10.213.0.128/25');
  if (range !== undefined) pool.ipRange = range;
  const gateway = text('gateway', (s) => isIP(s) !== 0, 'an IP address');
  if (gateway !== undefined) pool.gateway = gateway;
  const aux = get(m, 'aux_addresses');
  const auxMap = aux === undefined ? undefined : readOptionMap(ctx, aux, [...path, 'aux_addresses']);
  if (auxMap !== undefined) {
    const entries = Object.entries(auxMap).filter(([host, ip]) => {
      if (isIP(ip) !== 0) return true;
      ctx.issues.error(aux!.pos, [...path, 'aux_addresses', host], `aux address "${ip.slice(0, 60)}" of "${host}" is not an IP address`);
      return false;
    });
    if (entries.length > 0) {
      pool.auxAddresses = {};
      for (const [host, ip] of entries) setOwn(pool.auxAddresses, host, ip);
    }
  }
  return pool;
}
