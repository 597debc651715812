// What the connected engine's API version cannot do with a project cmesh otherwise honours: named warnings (the
// service runs, without that setting) instead of a silent drop. Pure; the table grows with each such key.

import type { ProjectSpec, ServiceSpec } from './api/project.ts';

export interface EngineGap {
  service: string;
  /** The compose key, as the user wrote it. */
  key: string;
  /** Engine API version the key needs. */
  needs: string;
  /** What happens instead on this engine. */
  instead: string;
}

interface Rule {
  key: string;
  needs: string;
  instead: string;
  uses(service: ServiceSpec): boolean;
}

const RULES: readonly Rule[] = [
  {
    key: 'healthcheck.start_interval',
    needs: '1.44',
    instead: "Docker's own status runs its first check one `interval` after start (cmesh's start probe still runs the test every start_interval until it passes, so depends_on and --wait do not wait for that)",
    uses: (s) => s.healthcheck !== undefined && !s.healthcheck.disable && s.healthcheck.startIntervalMs !== undefined,
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
      if (apiBelow(apiVersion, r.needs) && r.uses(svc)) gaps.push({ service: name, key: r.key, needs: r.needs, instead: r.instead });
    }
  }
  return gaps;
}

export function gapMessage(g: EngineGap, apiVersion: string): string {
  return `service "${g.service}": ${g.key} needs Engine API ${g.needs}, this engine speaks ${apiVersion}; ${g.instead}`;
}
