// Test builders for reconcile: compact ServiceSpec / DesiredProject / ContainerInfo factories with sane defaults.

import { DESIRED_STATE_VERSION, type DesiredProject } from '../api/desired.ts';
import type { ContainerInfo } from '../api/engine.ts';
import { containerLabels, containerName } from '../api/labels.ts';
import type { MeshSpec, ProjectSpec, ServiceSpec } from '../api/project.ts';
import { specHash } from './hash.ts';

/** A fixed "now" for pure tests: 2023-11-14T22:13:20Z. */
export const NOW = 1_700_000_000_000;
/** Desired state was last changed an hour before NOW, so recent exits postdate it. */
export const UPDATED_AT = NOW - 3_600_000;

const MESH: MeshSpec = {
  lb: 'round-robin',
  protocol: 'http',
  weights: [],
  weight: 1,
  health: { intervalMs: 2_000, timeoutMs: 1_000, rise: 2, fall: 3 },
  retries: 1,
  timeouts: { connectMs: 1_000, requestMs: 30_000, idleMs: 60_000 },
  accessLog: false,
  healthExplicit: false,
};

export function svc(name: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: `example/${name}:1`,
    environment: {},
    ports: [],
    expose: [],
    replicas: 1,
    dependsOn: {},
    restart: 'always',
    labels: {},
    volumes: [],
    networks: {},
    stopGracePeriodMs: 10_000,
    profiles: [],
    watch: [],
    mesh: MESH,
    ...overrides,
  };
}

export function dep(condition: ServiceSpec['dependsOn'][string]['condition'] = 'service_started') {
  return { condition, restart: false, required: true };
}

export function project(name: string, services: ServiceSpec[], overrides: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    name,
    workingDir: `/src/${name}`,
    files: [`/src/${name}/compose.yaml`],
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    networks: {
      default: { name: 'default', engineName: `${name}_default`, external: false, internal: false, labels: {} },
    },
    volumes: {},
    profiles: [],
    extensions: {},
    ...overrides,
  };
}

export function desired(spec: ProjectSpec, overrides: Partial<DesiredProject> = {}): DesiredProject {
  return {
    version: DESIRED_STATE_VERSION,
    generation: 1,
    project: spec,
    scale: {},
    stopped: [],
    selected: [],
    updatedAt: UPDATED_AT,
    ...overrides,
  };
}

export interface CtrOptions extends Partial<ContainerInfo> {
  /** Label the container with a hash that does not match the desired spec. */
  stale?: boolean;
  /** Suffix for the id when a replica has duplicates. */
  dup?: string;
}

/** A container of `service` replica `replica` as observe() would report it; current spec hash unless `stale`. */
export function ctr(d: DesiredProject, service: string, replica: number, options: CtrOptions = {}): ContainerInfo {
  const { stale, dup, ...overrides } = options;
  const spec = d.project.services[service];
  const hash = stale || !spec ? 'stale0000000000000000' : specHash(d.project, spec);
  const state = overrides.state ?? 'running';
  // An exited replica ran for two seconds before it failed, unless the case says otherwise (crash-loop shape).
  const finishedAt = overrides.finishedAt ?? NOW - 500;
  const exited = state === 'exited' ? { finishedAt, startedAt: finishedAt - 2_000, exitCode: 1 } : {};
  return {
    id: `c-${service}-${replica}${dup ? `-${dup}` : ''}`,
    name: containerName(d.project.name, service, replica),
    image: spec?.image ?? 'example/old:1',
    state,
    health: 'none',
    labels: containerLabels(d.project.name, service, replica, hash),
    createdAt: NOW - 1_800_000,
    startedAt: NOW - 1_700_000,
    ...exited,
    restartCount: 0,
    endpoints: [],
    ...overrides,
  };
}
