// The gateway's cumulative request counts per service × replica × method × status class (the daemon turns them into
// Prometheus counters). Counted on every request: cells are found by index, never by a key string built per request.

import type { GatewayStats } from '../../daemon/api/gateway-control.ts';

type Row = GatewayStats['requests'][number];

/** The policy dimensions of a request's row; absent on a listener without routes. */
export interface PolicyCell {
  route?: string | undefined;
  target?: string | undefined;
  reason?: string | undefined;
}

/** Methods counted under their own name; anything else is OTHER (the daemon's metrics bound cardinality the same way). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];
const METHOD_INDEX = new Map(METHODS.map((m, i) => [m, i]));
const OTHER = METHODS.length;
/** Index 0 is `none` (no status was sent); 1–5 are 1xx–5xx. */
const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];
const CELLS = (METHODS.length + 1) * CLASSES.length;

export class RequestCounts {
  /** service → replica ('' when none was reached) → a cell per method × class. */
  readonly #cells = new Map<string, Map<string, (Row | undefined)[]>>();
  /** Every row in the order first counted: what `totals()` reports. */
  readonly #rows: Row[] = [];

  /**
   * `policy` carries a routed request's route index and target, and the reason of the policy's own answers (the daemon
   * counts route series and refusals from them as for ingress): only then is a key string built for the request.
   */
  count(service: string, upstream: string | undefined, method: string, status: number, policy?: PolicyCell): void {
    let byUpstream = this.#cells.get(service);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      this.#cells.set(service, byUpstream);
    }
    const up = policy === undefined ? (upstream ?? '') : `${upstream ?? ''}\0${policy.route ?? ''}\0${policy.target ?? ''}\0${policy.reason ?? ''}`;
    let cells = byUpstream.get(up);
    if (cells === undefined) {
      cells = new Array<Row | undefined>(CELLS);
      byUpstream.set(up, cells);
    }
    const m = METHOD_INDEX.get(method) ?? OTHER;
    const c = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    const i = m * CLASSES.length + c;
    const row = cells[i];
    if (row !== undefined) {
      row.count++;
      return;
    }
    const made: Row = {
      service,
      ...(upstream ? { upstream } : {}),
      method: METHODS[m] ?? 'OTHER',
      codeClass: CLASSES[c]!,
      ...(policy?.route === undefined ? {} : { route: policy.route }),
      ...(policy?.target === undefined ? {} : { target: policy.target }),
      ...(policy?.reason === undefined ? {} : { reason: policy.reason }),
      count: 1,
    };
    cells[i] = made;
    this.#rows.push(made);
  }

  /** Cumulative since this gateway started; the rows are live (serialise them before counting on). */
  totals(): Row[] {
    return [...this.#rows];
  }
}
