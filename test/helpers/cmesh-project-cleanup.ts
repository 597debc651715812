// What cmesh made for a bench's or test's projects with only its own labels, removed by the project label.

import { idsOf, run } from './docker.ts';

/**
 * Force-removes what cmesh made for these projects with only its own labels (`dev.cmesh.project`): an east-west
 * gateway, project networks and volumes. `cleanup(runId)` cannot find those once the run's labelled containers are
 * gone, e.g. after a `down` that timed out. Pass only projects named with this run's id.
 */
export async function cleanupCmeshProjects(projects: readonly string[]): Promise<void> {
  const errors: unknown[] = [];
  for (const project of projects) {
    const filter = `label=dev.cmesh.project=${project}`;
    for (const [kind, remove] of [
      ['container', ['rm', '-f', '-v']],
      ['network', ['network', 'rm']],
      ['volume', ['volume', 'rm', '-f']],
    ] as const) {
      try {
        const ids = await idsOf(kind, filter);
        if (ids.length > 0) await run([...remove, ...ids], { timeoutMs: 60_000 });
      } catch (error) {
        errors.push(error);
      }
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `cleanup of cmesh projects ${projects.join(', ')} failed`);
}
