// A no-op `up`: the request changes nothing in the desired state and one container list shows the project as the
// last pass left it, so the daemon answers from its own state — no image checks, no store write, no reconcile pass.
// Anything this cannot prove unchanged (a build, a pull that may be due, secrets written per up, a gateway missing)
// takes the ordinary path, and the loop's resync still catches whatever changed behind cmesh's back (habit 2).

import { isDeepStrictEqual } from 'node:util';
import type { UpRequest } from './api/control.ts';
import type { DesiredProject } from './api/desired.ts';
import type { ContainerInfo, NetworkInfo, VolumeInfo } from './api/engine.ts';
import { isGateway } from './api/labels.ts';
import type { ServiceSpec } from './api/project.ts';
import { gatewayIndexOf, gatewayPlacement } from './reconcile/plan-gateway.ts';

/** Pull policies under which an image that is present is used as it is (nothing can be due). */
const LOCAL_FIRST = new Set<ServiceSpec['pullPolicy']>([undefined, 'missing', 'never']);

/**
 * Whether `up` may skip image work for these services: no builds (the builder decides freshness from the context),
 * no pull policy that could be due, no secrets or configs (materialized per up). East-west gateways are checked
 * against the container list (gatewaysInPlace).
 */
export function noopEligible(request: UpRequest, services: readonly string[]): boolean {
  if (request.build === 'always') return false;
  return services.every((name) => {
    const s = request.project.services[name];
    if (!s || s.build !== undefined || !LOCAL_FIRST.has(s.pullPolicy)) return false;
    return (s.secrets?.length ?? 0) + (s.configs?.length ?? 0) === 0;
  });
}

/**
 * The request asks for exactly the desired state there is: generation and time aside, and what `up` itself adds to
 * the request's project from the engine — each service's `imageExpose` (image-expose.ts), read from images a no-op
 * does not look at (as it does not look at their ids: the loop's next full pass does). Without this, every up of an
 * east-west project (the default) differed from its own last state and none was a no-op.
 */
export function sameDesired(prev: DesiredProject, draft: DesiredProject): boolean {
  const strip = (d: DesiredProject) => {
    const services = Object.fromEntries(Object.entries(d.project.services).map(([name, { imageExpose: _derived, ...s }]) => [name, s]));
    return { ...d, generation: 0, updatedAt: 0, project: { ...d.project, services } };
  };
  return isDeepStrictEqual(strip(prev), strip(draft));
}

/**
 * The project's networks and volumes as an observation, for a plan made from the container list alone. Sound only
 * for the question "is anything to do": running containers on the current spec hash hold their networks and volumes,
 * and one that is missing anyway is re-created by the loop's next full pass.
 */
export function assumedResources(desired: DesiredProject): { networks: NetworkInfo[]; volumes: VolumeInfo[] } {
  const networks = Object.values(desired.project.networks).map((n) => ({ id: '', name: n.engineName, labels: {} }));
  const volumes = Object.values(desired.project.volumes).map((v) => ({ name: v.engineName, labels: {} }));
  return { networks, volumes };
}

/**
 * The project's gateways all run where the placement wants them, none is left over. Their spec hash needs the
 * gateway image (the ordinary pass has it); the loop's next full pass checks that, as it does a replica's image.
 */
export function gatewaysInPlace(desired: DesiredProject, containers: ContainerInfo[]): boolean {
  if (desired.project.eastWest !== true) return true;
  const gateways = containers.filter(isGateway);
  const placement = gatewayPlacement(desired.project, gateways);
  if (placement.unwanted.length > 0 || placement.repacked) return false;
  // A pending replacement (`<gateway>-next`) left by an interrupted pass is the full pass's to finish or undo.
  if (gateways.some((c) => gatewayIndexOf(desired.project.name, c.name) === undefined)) return false;
  const running = new Set(gateways.filter((c) => c.state === 'running').map((c) => gatewayIndexOf(desired.project.name, c.name)));
  return placement.gateways.every((g) => running.has(g.index));
}
