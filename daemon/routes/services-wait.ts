// GET /v1/services: the mesh's service table; with `readyWithinMs` a long-poll that answers as soon as the named
// services are ready in the mesh (meshReady in daemon/api/service-table.ts) or when that time is up, whichever comes
// first. `up --wait` (cli/ci/ci-wait.ts) learns of the last replica's rise when it happens instead of polling for it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceTableRow } from '../api/control.ts';
import { CmeshError } from '../api/errors.ts';
import { meshReady } from '../api/service-table.ts';
import type { EventBus } from '../event-bus.ts';
import { clientGone, queryList, sendJson } from './http.ts';

/** Longer than any `--timeout` a CI run asks for is a mistake, not a wait. */
export const MAX_READY_WAIT_MS = 3_600_000;
/**
 * Level-triggered (habit 2): an event wakes the look, this poll is only the safety net (for a change no event names).
 * A look is an in-memory read; at the CLI's old polling cadence the long-poll is never later than polling was.
 */
const SAFETY_POLL_MS = 100;

/** The `readyWithinMs` query parameter: undefined when absent; whole milliseconds within MAX_READY_WAIT_MS. */
export function readyWithinMs(url: URL): number | undefined {
  const raw = url.searchParams.get('readyWithinMs');
  if (raw === null) return undefined;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_READY_WAIT_MS) {
    throw new CmeshError('CMESH_E_USAGE', `readyWithinMs takes whole milliseconds from 0 to ${MAX_READY_WAIT_MS}, not "${raw.slice(0, 24)}"`, {
      hint: 'GET /v1/services?project=NAME&service=S&readyWithinMs=5000 answers once S is ready in the mesh, or after 5 s',
    });
  }
  return Number(raw);
}

export interface MeshWait {
  /** The project's rows as the mesh has them now (cheap: in memory). */
  look: () => ServiceTableRow[];
  /** Services that must be ready; empty: every row of the project. */
  services: readonly string[];
  bus: EventBus;
  project: string;
  withinMs: number;
  /** The client went away: stop waiting (the answer is not read). */
  signal: AbortSignal;
}

const ready = (rows: readonly ServiceTableRow[], services: readonly string[]): boolean =>
  meshReady(rows, services.length > 0 ? services : rows.map((r) => r.service));

/** Resolves with the rows of the look that found them ready, or of the last look when the time is up or the client left. */
export function untilMeshReady(o: MeshWait): Promise<ServiceTableRow[]> {
  const first = o.look();
  if (o.withinMs <= 0 || o.signal.aborted || ready(first, o.services)) return Promise.resolve(first);
  return new Promise((resolve) => {
    const life = new AbortController();
    let queued = false;
    const end = (): void => {
      if (life.signal.aborted) return;
      life.abort();
      clearInterval(poll);
      clearTimeout(deadline);
      o.signal.removeEventListener('abort', end);
      resolve(o.look());
    };
    const check = (): void => {
      queued = false;
      if (!life.signal.aborted && ready(o.look(), o.services)) end();
    };
    // A pool announces a health change before it recounts who is ready (mesh/pool.ts): look once this task is done.
    // Any of the project's events may matter (a replica started, removed, or rose), and looking costs no engine call.
    o.bus.tap((e) => {
      if (e.project !== o.project || queued) return;
      queued = true;
      setImmediate(check);
    }, life.signal);
    const poll = setInterval(check, SAFETY_POLL_MS);
    const deadline = setTimeout(end, o.withinMs);
    o.signal.addEventListener('abort', end, { once: true });
  });
}

/** The route: the table now, or (with `readyWithinMs`, which needs `project`) once ready or the time is up. */
export async function serveServices(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  o: { bus: EventBus; project: string | undefined; look: () => ServiceTableRow[] },
): Promise<void> {
  const withinMs = readyWithinMs(url);
  if (withinMs === undefined) return sendJson(res, 200, o.look());
  if (o.project === undefined) throw new CmeshError('CMESH_E_USAGE', 'readyWithinMs waits for one project: add project=NAME');
  const gone = clientGone(req, res);
  const rows = await untilMeshReady({ look: o.look, services: queryList(url, 'service'), bus: o.bus, project: o.project, withinMs, signal: gone.signal });
  if (!res.destroyed) sendJson(res, 200, rows);
}
