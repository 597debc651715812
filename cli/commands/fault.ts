// `cmesh fault <service> --delay 200ms --percent 10 | --abort 503 --percent 5 | --clear`: run-time fault injection
// at the proxy for chaos tests; `cmesh routes` lists what is in effect.

import type { Command } from 'commander';
import type { FaultRequest, FaultResponse } from '../../daemon/api/policy-control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { FaultSpec } from '../../daemon/api/traffic-policy.ts';
import { parseDuration } from '../../daemon/config/normalize/duration.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printJson } from '../output.ts';
import { requireProjectName } from '../project-ref.ts';

export interface FaultOptions {
  delay?: string;
  abort?: string;
  percent?: string;
  clear?: boolean;
}

const usage = (message: string): CmeshError =>
  new CmeshError('CMESH_E_USAGE', message, { hint: 'e.g. `cmesh fault web --delay 200ms --percent 10`, `--abort 503 --percent 5` or `--clear`' });

/** The options as a request body; a flag combination that means nothing is a usage error. */
export function faultRequest(service: string, o: FaultOptions): FaultRequest {
  if (o.clear) {
    if (o.delay !== undefined || o.abort !== undefined || o.percent !== undefined) throw usage('--clear takes no other option');
    return { service };
  }
  if (o.delay === undefined && o.abort === undefined) throw usage('say what to inject: --delay, --abort or --clear');
  const percent = o.percent === undefined ? 100 : Number(o.percent);
  if (!/^\d+(\.\d+)?$/.test(o.percent ?? '100') || percent > 100) throw usage(`invalid --percent "${o.percent}": expected 0 to 100`);
  const faults: FaultSpec = {};
  if (o.delay !== undefined) {
    const durationMs = parseDuration(o.delay);
    if (durationMs === undefined) throw usage(`invalid --delay "${o.delay}": expected a duration like 200ms or 1s`);
    faults.delay = { percent, durationMs };
  }
  if (o.abort !== undefined) {
    const status = Number(o.abort);
    if (!/^\d{3}$/.test(o.abort) || status < 200 || status > 599) throw usage(`invalid --abort "${o.abort}": expected an HTTP status from 200 to 599`);
    faults.abort = { percent, status };
  }
  return { service, faults };
}

export function describeFaults(f: FaultSpec | undefined): string {
  const parts: string[] = [];
  if (f?.delay) parts.push(`delay ${f.delay.durationMs}ms on ${f.delay.percent}%`);
  if (f?.abort) parts.push(`abort ${f.abort.status} on ${f.abort.percent}%`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('fault')
    .description('inject delays or aborts at the proxy for a service (chaos tests), or clear them')
    .argument('<service>', 'the service whose requests get the faults')
    .option('--delay <duration>', 'hold requests this long before forwarding them, e.g. 200ms')
    .option('--abort <status>', 'answer requests with this status instead of forwarding them, e.g. 503')
    .option('--percent <n>', 'share of requests affected, 0 to 100 (default 100)')
    .option('--clear', 'remove the run-time faults (faults from the compose file apply again)')
    .option('--json', 'print the faults now in effect as JSON')
    .action(async (service: string, opts: FaultOptions & { json?: boolean }, command: Command) => {
      const name = await requireProjectName(command, ctx);
      const body = faultRequest(service, opts);
      const result = await createDaemonClient(ctx).request<FaultResponse>('POST', `/v1/projects/${encodeURIComponent(name)}/fault`, body);
      if (opts.json) return printJson(result, ctx.stdout);
      ctx.stderr.write(`Service ${service}  faults: ${describeFaults(result.faults)}${result.source === 'file' ? ' (from the compose file)' : ''}\n`);
    });
}
