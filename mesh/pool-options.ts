// The settings a ServicePool is built with; a daemon MeshSpec fits where one is asked for.

import type { Endpoint } from '../daemon/api/engine.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';
import type { MeshSpec, PortMapping } from '../daemon/api/project.ts';
import { type CreateBalancerOptions, DEFAULT_STRATEGY } from './balancer/index.ts';
import { DEFAULT_HEALTH_PROBE } from './health/active.ts';
import type { PassiveOptions } from './health/passive.ts';

/** The mesh settings a pool reads; a full MeshSpec fits. */
export type PoolMesh = Pick<MeshSpec, 'lb' | 'health' | 'weights' | 'weight'> & Partial<Pick<MeshSpec, 'protocol' | 'upstream' | 'protocolAlias' | 'bind'>>;

export interface ServicePoolOptions {
  project: string;
  service: string;
  mesh?: PoolMesh;
  ports?: PortMapping[];
  desired?: number;
  emit?: (e: DaemonEvent) => void;
  now?: () => number;
  rand?: () => number;
  /** false = nobody probes this pool: running replicas count as healthy and ejections end on their own. */
  activeChecks?: boolean;
  passive?: Omit<PassiveOptions, 'now' | 'rise'>;
  /** Below this share of healthy serving replicas the pool balances over all of them (Envoy's panic threshold). */
  panicThresholdPercent?: number;
  balancer?: Omit<CreateBalancerOptions, 'rand' | 'now'>;
  /**
   * Where an endpoint leads. Default replicaHost: a direct endpoint's container address, else loopback (a published
   * binding's wildcard is never followed); the east-west gateway passes container addresses through as they are.
   */
  upstreamHost?: (ep: Endpoint) => string;
}

export const DEFAULT_MESH: PoolMesh = { lb: DEFAULT_STRATEGY, health: DEFAULT_HEALTH_PROBE, weights: [], weight: 1 };
