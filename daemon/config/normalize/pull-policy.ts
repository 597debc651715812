// `pull_policy` and `platform` of a service, validated as Compose does; the decisions they drive are daemon/pull-policy.ts.

import type { PullPolicy } from '../../api/project.ts';
import type { YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { parseDuration } from './duration.ts';
import { type Ctx, readString } from './read.ts';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/** `every_<duration>`: a Go duration, plus the `d` and `w` units Compose accepts (`every_2d`, `every_1w12h`). */
export function parseEvery(text: string): number | undefined {
  const m = /^every_(.+)$/.exec(text);
  if (!m?.[1]) return undefined;
  let rest = m[1];
  let ms = 0;
  const big = /^(\d+)([dw])/;
  for (let b = big.exec(rest); b; b = big.exec(rest)) {
    ms += Number(b[1]) * (b[2] === 'd' ? DAY_MS : WEEK_MS);
    rest = rest.slice(b[0].length);
  }
  if (rest !== '') {
    const go = parseDuration(rest);
    if (go === undefined) return undefined;
    ms += go;
  }
  return ms > 0 ? ms : undefined;
}

const FIXED = ['missing', 'always', 'never', 'build', 'daily', 'weekly'] as const;
const HINT = 'expected missing, always, never, build, daily, weekly or every_<duration> (e.g. every_12h, every_2d)';

export function readPullPolicy(ctx: Ctx, node: YNode, path: PathSeg[]): PullPolicy | undefined {
  const s = readString(ctx, node, path, { hint: HINT });
  if (s === undefined) return undefined;
  // Compose's legacy spelling of `missing`.
  if (s === 'if_not_present') return 'missing';
  if ((FIXED as readonly string[]).includes(s)) return s as PullPolicy;
  if (s.startsWith('every_') && parseEvery(s) !== undefined) return s as PullPolicy;
  ctx.issues.error(node.pos, path, `invalid pull_policy "${s.slice(0, 60)}"`, HINT);
  return undefined;
}

/** `os/arch[/variant]`, as the engine's platform parameter takes it. */
export function readPlatform(ctx: Ctx, node: YNode, path: PathSeg[]): string | undefined {
  const hint = 'expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8';
  const s = readString(ctx, node, path, { hint });
  if (s === undefined) return undefined;
  if (/^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_.]+)?$/i.test(s)) return s;
  ctx.issues.error(node.pos, path, `invalid platform "${s.slice(0, 60)}"`, hint);
  return undefined;
}
