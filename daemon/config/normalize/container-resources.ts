// CPU, memory, pids, block IO and GPU limits, from the service-level keys (mem_limit, cpus…) and from
// deploy.resources, which Compose applies to plain containers too. Where both are given they must agree.

import type { BlkioDeviceRate, ResourceOptions } from '../../api/container-options.ts';
import { get, type YMap, type YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { readBytes, readOptionMap } from './container-options-read.ts';
import { checkKeys, type Ctx, readBool, readDuration, readInt, readMap, readNumber, readString, readStringList, typeError } from './read.ts';

type Reader = (ctx: Ctx, node: YNode, path: PathSeg[], out: ResourceOptions) => void;

const NANO = 1e9;

const cpus: Reader = (ctx, node, path, out) => {
  const n = node.kind === 'scalar' && typeof node.value === 'string' ? readNumber(ctx, { ...node, interpolated: true }, path, { min: 0 }) : readNumber(ctx, node, path, { min: 0 });
  if (n !== undefined) out.nanoCpus = Math.round(n * NANO);
};
const int = (key: 'cpuShares' | 'memorySwappiness' | 'pidsLimit' | 'oomScoreAdj', min: number, max?: number): Reader => (ctx, node, path, out) => {
  const hint = max === undefined ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  const n = readInt(ctx, node.kind === 'scalar' && typeof node.value === 'string' ? { ...node, interpolated: true } : node, path, { min, hint, ...(max === undefined ? {} : { max }) });
  if (n !== undefined) out[key] = n;
};
const bytes = (key: 'memoryBytes' | 'memoryReservationBytes' | 'memorySwapBytes', allowMinusOne = false): Reader => (ctx, node, path, out) => {
  const n = readBytes(ctx, node, path, { allowMinusOne });
  if (n !== undefined) out[key] = n;
};
/** Microseconds: an integer, or a duration string ("400ms") as Compose accepts for the real-time keys. */
const micros = (key: 'cpuPeriodUs' | 'cpuQuotaUs' | 'cpuRtPeriodUs' | 'cpuRtRuntimeUs'): Reader => (ctx, node, path, out) => {
  if (node.kind === 'scalar' && typeof node.value === 'string' && !/^-?\d+$/.test(node.value.trim())) {
    const ms = readDuration(ctx, node, path);
    if (ms !== undefined) out[key] = Math.round(ms * 1000);
    return;
  }
  const n = readInt(ctx, node.kind === 'scalar' && typeof node.value === 'string' ? { ...node, interpolated: true } : node, path, { min: -1 });
  if (n !== undefined) out[key] = n;
};

const SERVICE_LEVEL: Record<string, Reader> = {
  cpus,
  cpu_shares: int('cpuShares', 0),
  cpu_period: micros('cpuPeriodUs'),
  cpu_quota: micros('cpuQuotaUs'),
  cpu_rt_period: micros('cpuRtPeriodUs'),
  cpu_rt_runtime: micros('cpuRtRuntimeUs'),
  cpuset: (ctx, node, path, out) => {
    const s = readString(ctx, node, path, { coerce: true });
    if (s !== undefined) out.cpuset = s;
  },
  mem_limit: bytes('memoryBytes'),
  mem_reservation: bytes('memoryReservationBytes'),
  memswap_limit: bytes('memorySwapBytes', true),
  mem_swappiness: int('memorySwappiness', 0, 100),
  pids_limit: int('pidsLimit', -1),
  oom_kill_disable: (ctx, node, path, out) => {
    const b = readBool(ctx, node, path);
    if (b !== undefined) out.oomKillDisable = b;
  },
  oom_score_adj: int('oomScoreAdj', -1000, 1000),
  blkio_config: readBlkio,
  gpus: (ctx, node, path, out) => {
    if (node.kind === 'scalar' && node.value === 'all') out.gpus = [{ count: -1, capabilities: [['gpu']] }];
    else {
      const g = readDeviceRequests(ctx, node, path);
      if (g !== undefined) out.gpus = g;
    }
  },
};

/** The compose service keys this module reads. */
export const RESOURCE_KEYS: readonly string[] = Object.keys(SERVICE_LEVEL);

export function readResources(ctx: Ctx, service: YMap, path: PathSeg[]): ResourceOptions | undefined {
  const out: ResourceOptions = {};
  for (const e of service.entries.values()) {
    const reader = SERVICE_LEVEL[e.key];
    if (reader && !(e.value.kind === 'scalar' && e.value.value === null)) reader(ctx, e.value, [...path, e.key], out);
  }
  const deploy = get(service, 'deploy');
  const resources = deploy?.kind === 'map' ? get(deploy, 'resources') : undefined;
  if (resources !== undefined) readDeployResources(ctx, resources, [...path, 'deploy', 'resources'], out);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** deploy.resources: limits (cpus, memory, pids) and reservations (memory, devices); they must agree with mem_limit & co. */
function readDeployResources(ctx: Ctx, node: YNode, path: PathSeg[], out: ResourceOptions): void {
  const m = readMap(ctx, node, path);
  if (m === undefined) return;
  checkKeys(ctx, m, path, { supported: new Set(['limits', 'reservations']) });
  const fromDeploy: ResourceOptions = {};
  const limits = get(m, 'limits');
  const lm = limits === undefined ? undefined : readMap(ctx, limits, [...path, 'limits']);
  if (lm !== undefined) {
    checkKeys(ctx, lm, [...path, 'limits'], { supported: new Set(['cpus', 'memory', 'pids']) });
    readOne(ctx, lm, 'cpus', [...path, 'limits'], cpus, fromDeploy);
    readOne(ctx, lm, 'memory', [...path, 'limits'], bytes('memoryBytes'), fromDeploy);
    readOne(ctx, lm, 'pids', [...path, 'limits'], int('pidsLimit', -1), fromDeploy);
  }
  const reservations = get(m, 'reservations');
  const rm = reservations === undefined ? undefined : readMap(ctx, reservations, [...path, 'reservations']);
  if (rm !== undefined) {
    checkKeys(ctx, rm, [...path, 'reservations'], { supported: new Set(['memory', 'devices']), unsupported: new Set(['cpus', 'generic_resources']) });
    readOne(ctx, rm, 'memory', [...path, 'reservations'], bytes('memoryReservationBytes'), fromDeploy);
    const devices = get(rm, 'devices');
    if (devices !== undefined) {
      const d = readDeviceRequests(ctx, devices, [...path, 'reservations', 'devices']);
      if (d !== undefined) fromDeploy.gpus = [...(out.gpus ?? []), ...d];
    }
  }
  for (const [k, v] of Object.entries(fromDeploy) as [keyof ResourceOptions, never][]) {
    const own = out[k];
    if (own !== undefined && k !== 'gpus' && own !== v) {
      ctx.issues.error(m.pos, path, `deploy.resources and the service-level key disagree on ${k} (${String(v)} vs ${String(own)})`, 'set the limit in one place');
      continue;
    }
    out[k] = v;
  }
}

function readOne(ctx: Ctx, m: YMap, key: string, path: PathSeg[], reader: Reader, out: ResourceOptions): void {
  const node = get(m, key);
  if (node !== undefined && !(node.kind === 'scalar' && node.value === null)) reader(ctx, node, [...path, key], out);
}

function readDeviceRequests(ctx: Ctx, node: YNode, path: PathSeg[]): ResourceOptions['gpus'] {
  if (node.kind !== 'seq') return typeError(ctx, node, path, 'a list of device requests, or "all"');
  const out: NonNullable<ResourceOptions['gpus']> = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    const m = readMap(ctx, item, p);
    if (m === undefined) return;
    checkKeys(ctx, m, p, { supported: new Set(['driver', 'count', 'device_ids', 'capabilities', 'options']) });
    const driver = get(m, 'driver');
    const count = get(m, 'count');
    const ids = get(m, 'device_ids');
    const caps = get(m, 'capabilities');
    const options = get(m, 'options');
    const req: NonNullable<ResourceOptions['gpus']>[number] = { capabilities: [(caps && readStringList(ctx, caps, [...p, 'capabilities'])) || ['gpu']] };
    const d = driver && readString(ctx, driver, [...p, 'driver']);
    if (d) req.driver = d;
    if (count !== undefined) {
      const n = count.kind === 'scalar' && count.value === 'all' ? -1 : readInt(ctx, count, [...p, 'count'], { min: 0 });
      if (n !== undefined) req.count = n;
    }
    const deviceIds = ids && readStringList(ctx, ids, [...p, 'device_ids']);
    if (deviceIds) req.deviceIds = deviceIds;
    const opts = options && readOptionMap(ctx, options, [...p, 'options']);
    if (opts) req.options = opts;
    if (req.count === undefined && req.deviceIds === undefined) req.count = -1;
    out.push(req);
  });
  return out;
}

function readBlkio(ctx: Ctx, node: YNode, path: PathSeg[], out: ResourceOptions): void {
  const m = readMap(ctx, node, path);
  if (m === undefined) return;
  const rates = { device_read_bps: 'blkioDeviceReadBps', device_write_bps: 'blkioDeviceWriteBps', device_read_iops: 'blkioDeviceReadIops', device_write_iops: 'blkioDeviceWriteIops' } as const;
  checkKeys(ctx, m, path, { supported: new Set(['weight', 'weight_device', ...Object.keys(rates)]) });
  const weight = get(m, 'weight');
  if (weight !== undefined) {
    const w = readInt(ctx, weight, [...path, 'weight'], { min: 10, max: 1000 });
    if (w !== undefined) out.blkioWeight = w;
  }
  const wd = get(m, 'weight_device');
  if (wd !== undefined) {
    const list = deviceList(ctx, wd, [...path, 'weight_device'], 'weight', (n, p) => readInt(ctx, n, p, { min: 10, max: 1000 }));
    if (list) out.blkioWeightDevice = list.map(({ path: dev, value }) => ({ path: dev, weight: value }));
  }
  for (const [key, field] of Object.entries(rates)) {
    const n = get(m, key);
    if (n === undefined) continue;
    const isIops = key.endsWith('iops');
    const list = deviceList(ctx, n, [...path, key], 'rate', (v, p) => (isIops ? readInt(ctx, v, p, { min: 0 }) : readBytes(ctx, v, p)));
    if (list) out[field] = list.map(({ path: dev, value }): BlkioDeviceRate => ({ path: dev, rate: value }));
  }
}

function deviceList(ctx: Ctx, node: YNode, path: PathSeg[], valueKey: string, read: (n: YNode, p: PathSeg[]) => number | undefined): { path: string; value: number }[] | undefined {
  if (node.kind !== 'seq') return typeError(ctx, node, path, `a list of { path, ${valueKey} }`);
  const out: { path: string; value: number }[] = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    const m = readMap(ctx, item, p);
    if (m === undefined) return;
    const dev = get(m, 'path');
    const val = get(m, valueKey);
    if (dev === undefined || val === undefined) {
      ctx.issues.error(item.pos, p, `needs both path and ${valueKey}`, `e.g. { path: /dev/sda, ${valueKey}: … }`);
      return;
    }
    const devPath = readString(ctx, dev, [...p, 'path']);
    const value = read(val, [...p, valueKey]);
    if (devPath !== undefined && value !== undefined) out.push({ path: devPath, value });
  });
  return out;
}
