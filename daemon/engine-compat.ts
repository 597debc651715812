// What the connected engine's API version cannot do with a project cmesh otherwise honours. Where the service would
// still run as meant (healthcheck start_interval) that is a named warning; where the engine would silently drop or
// misapply the setting (a volume subpath would mount the whole volume), `up` is refused naming the key and both
// versions. Pure; the table grows with each such key.

import type { ProjectSpec, ServiceSpec } from './api/project.ts';
import { containerTemplate } from './reconcile/container-spec.ts';

export interface EngineGap {
  service: string;
  /** The compose key, as the user wrote it (with the network or mount it sits on). */
  key: string;
  /** Engine API version the key needs. */
  needs: string;
  /** What happens instead on this engine (warnings), or how to get past the refusal (errors). */
  instead: string;
  severity: 'warning' | 'error';
}

interface Rule {
  needs: string;
  severity: EngineGap['severity'];
  instead: string;
  /** The keys of this kind the service uses, as paths the user recognizes. */
  uses(service: ServiceSpec, project: ProjectSpec): string[];
}

const when = (cond: boolean, key: string): string[] => (cond ? [key] : []);
const endpoints = (s: ServiceSpec, pick: (n: ServiceSpec['networks'][string]) => unknown, key: string): string[] =>
  Object.entries(s.networks).flatMap(([net, n]) => when(pick(n) !== undefined, `networks.${net}.${key}`));

const RULES: readonly Rule[] = [
  {
    needs: '1.44',
    severity: 'warning',
    instead: "Docker's own status runs its first check one `interval` after start (cmesh's start probe still runs the test every start_interval until it passes, so depends_on and --wait do not wait for that)",
    uses: (s) => when(s.healthcheck !== undefined && !s.healthcheck.disable && s.healthcheck.startIntervalMs !== undefined, 'healthcheck.start_interval'),
  },
  {
    needs: '1.43',
    severity: 'error',
    instead: 'drop `annotations` (labels are the portable alternative), or upgrade Docker Engine to 24.0 or later',
    uses: (s) => when(s.options?.annotations !== undefined, 'annotations'),
  },
  {
    needs: '1.44',
    severity: 'error',
    instead: 'drop `recursive: writable|readonly`, or upgrade Docker Engine to 25.0 or later',
    uses: (s) => s.volumes.flatMap((v, i) => when(v.recursive === 'writable' || v.recursive === 'readonly', `volumes[${i}].bind.recursive`)),
  },
  {
    needs: '1.42',
    severity: 'error',
    instead: 'add `create_host_path: false` to that bind (its source must then exist), or upgrade Docker Engine to 23.0 or later',
    uses: (s) => s.volumes.flatMap((v, i) => when(v.type === 'bind' && v.recursive !== undefined && v.createHostPath === true, `volumes[${i}].bind.recursive (with create_host_path)`)),
  },
  {
    needs: '1.45',
    severity: 'error',
    instead: 'mount the volume without `subpath`, or upgrade Docker Engine to 26.0 or later',
    uses: (s) => s.volumes.flatMap((v, i) => when(v.subpath !== undefined, `volumes[${i}].volume.subpath`)),
  },
  {
    // The first network's MAC goes into the container's config, which older engines honour (as Compose v2 does).
    needs: '1.44',
    severity: 'error',
    instead: 'set a MAC address only on the first network (by `priority`, then name), or upgrade Docker Engine to 25.0 or later',
    uses: (s, p) => {
      const [, ...later] = containerTemplate(p, s).networks;
      const keyOf = (engineName: string): string => Object.keys(s.networks).find((k) => (p.networks[k]?.engineName ?? k) === engineName) ?? engineName;
      return later.flatMap((e) => when(e.macAddress !== undefined, `networks.${keyOf(e.name)}.mac_address`));
    },
  },
  {
    needs: '1.48',
    severity: 'error',
    instead: 'drop `gw_priority` (the first network by `priority` gives the gateway), or upgrade Docker Engine to 28.0 or later',
    uses: (s) => endpoints(s, (n) => n.gwPriority, 'gw_priority'),
  },
  {
    needs: '1.49',
    severity: 'error',
    instead: 'drop `interface_name`, or upgrade Docker Engine to 28.1 or later',
    uses: (s) => endpoints(s, (n) => n.interfaceName, 'interface_name'),
  },
  {
    needs: '1.48',
    severity: 'error',
    instead: 'drop `enable_ipv4: false`, or upgrade Docker Engine to 28.0 or later',
    uses: (s, p) => Object.keys(s.networks).flatMap((net) => when(p.networks[net]?.enableIpv4 === false, `networks.${net}.enable_ipv4 (top-level)`)),
  },
];

/** `1.41` < `1.44`, numerically per part. */
export function apiBelow(version: string, needed: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = needed.split('.').map(Number);
  return a < c || (a === c && b < d);
}

export function engineGaps(project: ProjectSpec, services: readonly string[], apiVersion: string): EngineGap[] {
  const gaps: EngineGap[] = [];
  for (const name of services) {
    const svc = project.services[name];
    if (!svc) continue;
    for (const r of RULES) {
      if (!apiBelow(apiVersion, r.needs)) continue;
      for (const key of r.uses(svc, project)) gaps.push({ service: name, key, needs: r.needs, instead: r.instead, severity: r.severity });
    }
  }
  return gaps;
}

export function gapMessage(g: EngineGap, apiVersion: string): string {
  return `service "${g.service}": ${g.key} needs Engine API ${g.needs}, this engine speaks ${apiVersion}; ${g.instead}`;
}
