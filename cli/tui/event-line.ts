// Which DaemonEvents the dashboard's ticker shows (health flips, ejections, rollouts, builds…) and how, uncoloured.

import type { DaemonEvent } from '../../daemon/api/events.ts';
import type { TickerLine } from './ticker-line.ts';

export function summarizeEvent(e: DaemonEvent): TickerLine | undefined {
  const at = (text: string, tone: TickerLine['tone'] = 'info'): TickerLine => ({ time: e.time, text, tone });
  switch (e.type) {
    case 'health':
      return at(`${e.service}-${e.replica} ${e.healthy ? 'healthy' : 'unhealthy'}${e.reason ? ` (${e.reason})` : ''}`, e.healthy ? 'ok' : 'bad');
    case 'ejection':
      return at(`${e.service}-${e.replica} ${e.ejected ? 'ejected' : 'restored'} (${e.reason})`, e.ejected ? 'bad' : 'ok');
    case 'rollout':
      return at(`rollout ${e.service} ${e.phase}${e.text ? `: ${e.text}` : ''}`, e.phase === 'rolled-back' ? 'bad' : e.phase === 'done' ? 'ok' : 'info');
    case 'build': {
      const step = e.phase === 'step' && e.total ? ` ${e.step}/${e.total}` : '';
      return at(`build ${e.service} ${e.phase}${step}${e.text ? ` ${e.text}` : ''}`, e.phase === 'failed' ? 'bad' : e.phase === 'done' ? 'ok' : 'info');
    }
    case 'container':
      if (e.action === 'died') return at(`${e.name} died${e.exitCode === undefined ? '' : ` (exit ${e.exitCode})`}`, 'bad');
      if (e.action === 'started' || e.action === 'removed') return at(`${e.name} ${e.action}`, e.action === 'started' ? 'ok' : 'info');
      return undefined;
    case 'restart-scheduled':
      return at(`${e.service}-${e.replica} restart #${e.attempt} in ${Math.round(e.delayMs)} ms (${e.reason})`, 'bad');
    case 'project':
      return e.action === 'scaled' && e.services
        ? at(`scaled ${Object.entries(e.services).map(([s, n]) => `${s}=${n}`).join(' ')}`)
        : at(`project ${e.action}`);
    case 'reconcile':
      return e.phase === 'failed' ? at(`reconcile failed: ${e.error?.message ?? ''}`, 'bad') : undefined;
    case 'error':
      return at(`error: ${e.error.message}`, 'bad');
    case 'warning':
      return at(`warning: ${e.message}`, 'bad');
    default:
      return undefined;
  }
}
