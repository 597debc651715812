// Runs a plan's stages as the graph their `after` lists make: each starts once the stages it follows are done, and
// independent branches of depends_on run side by side. The scheduling only; what a stage does is execute.ts's.

import { CmeshError, isCmeshError } from '../api/errors.ts';
import type { Stage } from './plan-types.ts';

/**
 * Starts every stage as soon as its predecessors (its `after`, or all earlier stages when unset) succeeded. After the
 * first failure no stage starts any more; the ones already running finish, then the errors are thrown as one.
 */
export async function runStages(stages: readonly Stage[], run: (stage: Stage) => Promise<void>, signal: AbortSignal): Promise<void> {
  const errors: unknown[] = [];
  const outcomes: Promise<boolean>[] = [];
  for (const [i, stage] of stages.entries()) {
    const before = (stage.after ?? stages.slice(0, i).map((_, j) => j)).map((j) => {
      const outcome = outcomes[j];
      if (outcome === undefined) throw new CmeshError('CMESH_E_BUG', `stage ${stage.name} follows stage #${j}, which does not come before it`);
      return outcome;
    });
    outcomes.push(
      (async () => {
        const ok = (await Promise.all(before)).every(Boolean);
        if (!ok || errors.length > 0 || signal.aborted) return false;
        try {
          await run(stage);
          return true;
        } catch (error) {
          errors.push(error);
          return false;
        }
      })(),
    );
  }
  await Promise.all(outcomes);
  signal.throwIfAborted();
  if (errors.length > 0) throw joinErrors(errors);
}

const otherErrors = (e: CmeshError): string[] => (Array.isArray(e.details['otherErrors']) ? (e.details['otherErrors'] as string[]) : []);

/** One error for many: the first, with the others (and those they carried) named in its details. */
export function joinErrors(errors: readonly unknown[]): CmeshError {
  const all = errors.map((e) => (isCmeshError(e) ? e : new CmeshError('CMESH_E_BUG', `unexpected error: ${String(e)}`, { cause: e })));
  const [first, ...rest] = all;
  if (!first) return new CmeshError('CMESH_E_BUG', 'joinErrors called without errors');
  if (rest.length === 0) return first;
  return new CmeshError(first.code, first.message, {
    ...(first.hint === undefined ? {} : { hint: first.hint }),
    details: { ...first.details, otherErrors: [...otherErrors(first), ...rest.flatMap((e) => [`${e.code}: ${e.message}`, ...otherErrors(e)])] },
    cause: first,
  });
}
