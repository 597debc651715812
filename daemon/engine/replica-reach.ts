// How the daemon reaches a replica's ports. "direct": at the container's own address on a project bridge network, as
// containers reach each other; the engine publishes nothing. "published": through a port the engine publishes on
// 127.0.0.1. Direct is the default wherever the host routes to the engine's bridges (a local Linux engine): every
// published port costs the engine NAT rules and helper processes at each start and stop (measured in bench/RESULTS.md,
// "Replicas reached at their own address"). Docker Desktop, rootless engines and remote engines keep their bridges
// where the host cannot route, so they publish as before.

import { CmeshError } from '../api/errors.ts';
import type { EngineTarget } from './connect.ts';

export type ReachMode = 'direct' | 'published';

/** CMESH_REPLICA_REACH: `direct`, `published`, or `auto` (the default: decided from the engine, below). */
export const REACH_ENV = 'CMESH_REPLICA_REACH';

export function reachSetting(env: NodeJS.ProcessEnv = process.env): ReachMode | 'auto' {
  const raw = env[REACH_ENV];
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if (raw === 'direct' || raw === 'published') return raw;
  throw new CmeshError('CMESH_E_USAGE', `${REACH_ENV}=${raw} is not a way to reach replicas`, {
    hint: `set ${REACH_ENV} to direct, published or auto (the default), or unset it`,
  });
}

/** What `docker info` says that matters here (the fields exist on every API version cmesh supports). */
export interface ReachInfo {
  OperatingSystem?: string;
  SecurityOptions?: string[];
}

export interface ReachDecision {
  mode: ReachMode;
  /** Why, for the daemon's log. */
  reason: string;
}

/** `auto`: direct only on Linux, over a local socket, to an engine that is neither Docker Desktop nor rootless. */
export function decideReach(target: EngineTarget, info: ReachInfo, platform: NodeJS.Platform = process.platform): ReachDecision {
  const published = (why: string): ReachDecision => ({ mode: 'published', reason: `replicas are reached through published loopback ports: ${why}` });
  if (platform !== 'linux') return published(`the host is ${platform}, where the engine's bridges live in a VM`);
  if (!isLocalSocket(target)) return published(`the engine at ${target.description} is not a local socket`);
  if (/docker desktop/i.test(info.OperatingSystem ?? '')) return published('Docker Desktop runs its bridges in a VM');
  if ((info.SecurityOptions ?? []).some((o) => /(^|,)name=rootless(,|$)/.test(o))) return published('a rootless engine keeps its bridges in its own namespace');
  return { mode: 'direct', reason: 'replicas are reached at their own addresses on the project networks (a local Linux engine)' };
}

function isLocalSocket(target: EngineTarget): boolean {
  if (target.options.socketPath !== undefined) return true;
  if (target.options.host !== undefined || target.options.protocol !== undefined) return false;
  return (target.dockerHost ?? '').startsWith('unix://');
}
