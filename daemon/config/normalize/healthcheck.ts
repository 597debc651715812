// `healthcheck:` → HealthcheckSpec in Docker's form (test as ['CMD'|'CMD-SHELL'|'NONE', ...], durations in ms).

import type { HealthcheckSpec } from '../../api/project.ts';
import type { YMap } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { HEALTHCHECK_KEYS } from '../schema.ts';
import { checkKeys, type Ctx, readBool, readDuration, readInt, readStringList, typeError } from './read.ts';

const TEST_HINT = 'expected a shell string or a list starting with "CMD", "CMD-SHELL" or "NONE"';

export function readHealthcheck(ctx: Ctx, map: YMap, path: PathSeg[]): HealthcheckSpec {
  checkKeys(ctx, map, path, { supported: HEALTHCHECK_KEYS });
  const hc: HealthcheckSpec = { test: [], disable: false };
  for (const e of map.entries.values()) {
    const p = [...path, e.key];
    const v = e.value;
    switch (e.key) {
      case 'test':
        if (v.kind === 'scalar' && typeof v.value === 'string') hc.test = ['CMD-SHELL', v.value];
        else if (v.kind === 'seq') {
          const list = readStringList(ctx, v, p) ?? [];
          const head = list[0];
          if (head !== 'CMD' && head !== 'CMD-SHELL' && head !== 'NONE') ctx.issues.error(v.items[0]?.pos ?? v.pos, [...p, 0], `invalid healthcheck test "${head ?? ''}"`, TEST_HINT);
          else if (head !== 'NONE' && list.length < 2) ctx.issues.error(v.pos, p, `healthcheck test "${head}" has no command`, TEST_HINT);
          else hc.test = list;
        } else typeError(ctx, v, p, 'a string or a list', TEST_HINT);
        break;
      case 'interval':
      case 'timeout':
      case 'start_period':
      case 'start_interval': {
        const ms = readDuration(ctx, v, p);
        const field = ({ interval: 'intervalMs', timeout: 'timeoutMs', start_period: 'startPeriodMs', start_interval: 'startIntervalMs' } as const)[e.key];
        if (ms !== undefined) hc[field] = ms;
        break;
      }
      case 'retries': {
        const n = readInt(ctx, v, p, { min: 0 });
        if (n !== undefined) hc.retries = n;
        break;
      }
      case 'disable':
        hc.disable = readBool(ctx, v, p) ?? false;
        break;
    }
  }
  if (hc.test[0] === 'NONE') hc.disable = true;
  if (hc.disable) hc.test = ['NONE'];
  return hc;
}
