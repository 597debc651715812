// What cmesh made for a bench's or test's projects with only its own labels, removed by the project label.

import { homeId, SHARED_GATEWAY_LABEL } from '../../daemon/gateway-shared.ts';
import { removeMatching } from './docker.ts';

/**
 * Force-removes the shared east-west gateway a test daemon of `home` made (daemon/gateway-shared.ts), if its daemon
 * did not (it keeps one while a project is on it). First: it holds endpoints on the projects' networks.
 */
export async function cleanupSharedGateway(home: string): Promise<void> {
  const errors = await removeMatching(`label=${SHARED_GATEWAY_LABEL}=${homeId(home)}`, ['container']);
  if (errors.length > 0) throw new AggregateError(errors, `cleanup of the shared gateway of ${home} failed`);
}

/**
 * Force-removes what cmesh made for these projects with only its own labels (`dev.cmesh.project`): an east-west
 * gateway, project networks and volumes. `cleanup(runId)` cannot find those once the run's labelled containers are
 * gone, e.g. after a `down` that timed out. Pass only projects named with this run's id.
 */
export async function cleanupCmeshProjects(projects: readonly string[]): Promise<void> {
  const errors: unknown[] = [];
  for (const project of projects) {
    errors.push(...(await removeMatching(`label=dev.cmesh.project=${project}`, ['container', 'network', 'volume'])));
  }
  if (errors.length > 0) {
    // Say what failed (an AggregateError prints only its own message), e.g. a network the engine holds "active endpoints" on.
    const what = errors.map((e) => (e instanceof Error ? e.message : String(e)).split('\n')[0]).join('; ');
    throw new AggregateError(errors, `cleanup of cmesh projects ${projects.join(', ')} failed: ${what}`);
  }
}
