// Which container port of a route target a published port's requests go to (shared by the loader and the daemon).

import type { ServiceSpec } from './project.ts';

/** The container ports a target's pools can be built for (published or exposed TCP, and x-cmesh.ports), in order. */
export function routablePorts(s: Pick<ServiceSpec, 'ports' | 'expose' | 'mesh'>): number[] {
  const ports = new Set<number>();
  for (const p of s.ports) if (p.protocol === 'tcp') ports.add(p.target);
  for (const p of s.expose) ports.add(p);
  for (const p of s.mesh.ports ?? []) ports.add(p);
  return [...ports];
}

/** `service:port` picks that port; else the target's port with the listener's number; else its first. */
export function targetPort(s: Pick<ServiceSpec, 'ports' | 'expose' | 'mesh'>, wanted: number | undefined, listenerPort: number): number | undefined {
  return pickPort(routablePorts(s), wanted, listenerPort);
}

/** The same choice among a list of ports (the east-west gateway knows a service by its meshed ports only). */
export function pickPort(ports: readonly number[], wanted: number | undefined, listenerPort: number): number | undefined {
  if (wanted !== undefined) return ports.includes(wanted) ? wanted : undefined;
  return ports.includes(listenerPort) ? listenerPort : ports[0];
}
