// Human one-liners for DaemonEvents: progress of `up`/`down` on stderr and the `events` verb's default output.

import type { OperationFrame } from '../daemon/api/control.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';
import type { Colors, OutStream } from './output.ts';

const containerVerb: Record<string, string> = {
  created: 'Created',
  started: 'Started',
  stopped: 'Stopped',
  removed: 'Removed',
  died: 'Died',
  restarting: 'Restarting',
  adopted: 'Adopted',
};

/** Undefined for events too chatty for progress output (state snapshots, log lines, proxy stats). */
export function describeEvent(e: DaemonEvent, c: Colors, verbose = false): string | undefined {
  switch (e.type) {
    case 'container': {
      const code = e.exitCode === undefined ? '' : ` (exit ${e.exitCode})`;
      const verb = containerVerb[e.action] ?? e.action;
      const colored = e.action === 'died' ? c.red(verb) : e.action === 'started' ? c.green(verb) : verb;
      return `Container ${e.name}  ${colored}${code}`;
    }
    case 'build':
      if (e.phase === 'step') return `Building ${e.service}  step ${e.step}/${e.total} ${e.text ?? ''}`.trimEnd();
      if (e.phase === 'failed') return `Building ${e.service}  ${c.red('failed')}: ${e.text ?? ''}`;
      return `Building ${e.service}  ${e.text ?? e.phase}`;
    case 'pull':
      // One line per image, when its pull ends (`cmesh pull` has the live TTY view).
      if (e.phase === 'start' || e.phase === 'progress') return verbose ? `Pulling ${e.service}  ${e.text ?? e.image}` : undefined;
      if (e.phase === 'failed') return `Pulling ${e.service}  ${c.red('failed')}: ${e.text ?? ''}`;
      return `Pulling ${e.service}  ${e.text ?? e.image}`;
    case 'health':
      return `Health ${e.service}-${e.replica}  ${e.healthy ? c.green('healthy') : c.red('unhealthy')}${e.reason ? ` (${e.reason})` : ''}`;
    case 'restart-scheduled':
      return `Restart ${e.service}-${e.replica}  attempt ${e.attempt} in ${e.delayMs} ms (${e.reason})`;
    case 'reconcile':
      if (e.phase === 'failed') return `Reconcile ${c.red('failed')}: ${e.error?.message ?? ''}`;
      return verbose ? `Reconcile ${e.phase} (${e.actions} actions${e.durationMs === undefined ? '' : `, ${e.durationMs} ms`})` : undefined;
    case 'project':
      return verbose ? `Project ${e.project}  ${e.action}` : undefined;
    case 'rollout':
      return `Rollout ${e.service}  ${e.phase}${e.text ? `: ${e.text}` : ''}`;
    case 'ejection':
      return `Ejection ${e.service}-${e.replica}  ${e.ejected ? 'ejected' : 'restored'} (${e.reason})`;
    case 'error':
      return `${c.red('error')}: ${e.error.message}`;
    case 'warning':
      return `${c.yellow('warning')}: ${e.message}`;
    case 'replica-state':
      return verbose ? `Replica ${e.service}-${e.replica}  ${e.state}/${e.health}` : undefined;
    case 'proxy':
      return verbose ? `Proxy ${e.service}  ${e.action} ${e.address}:${e.port}` : undefined;
    case 'log':
      return verbose ? `Log ${e.service}-${e.replica}  ${e.text}` : undefined;
  }
}

/** Progress printer for operation streams: event frames → one line each on `out`. */
export function frameWriter(out: OutStream, c: Colors): (frame: OperationFrame) => void {
  return (frame) => {
    if (frame.kind === 'progress') out.write(`${frame.text}\n`);
    else if (frame.kind === 'event') {
      const line = describeEvent(frame.event, c);
      if (line) out.write(` ${line}\n`);
    }
  };
}
