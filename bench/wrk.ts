// wrk's text report, parsed once for every benchmark that drives wrk (bench/proxy*.ts, policy.ts, tls.ts).

export interface WrkReport {
  /** `Requests/sec:` (0 when wrk printed none). */
  rps: number;
  /** `N requests in …`: every answer wrk read, whatever its status. */
  requests: number;
  /** `Non-2xx or 3xx responses:`. */
  non2xx: number;
  /** The sum of `Socket errors: connect a, read b, write c, timeout d`. */
  socketErrors: number;
  /** The `timeout` count of that line alone. */
  timeouts: number;
  /** non2xx + socketErrors: what a run that should answer 200 counts as failed. */
  errors: number;
  /** The `--latency` distribution's 50 % and 99 % rows in ms (NaN without `--latency`). */
  p50Ms: number;
  p99Ms: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** A wrk duration (`812.00us`, `1.23ms`, `2.00s`) in ms; NaN when it is not one. */
export function wrkMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  return m === null ? Number.NaN : Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function parseWrk(out: string): WrkReport {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? 0);
  const socketLine = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  const socketErrors = socketLine.match(/\d+/g)?.reduce((a, b) => a + Number(b), 0) ?? 0;
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const pct = (q: string): number => wrkMs(new RegExp(`\\s${q}%\\s+(\\S+)`).exec(out)?.[1] ?? '');
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx,
    socketErrors,
    timeouts: num(/timeout (\d+)/),
    errors: non2xx + socketErrors,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
  };
}
