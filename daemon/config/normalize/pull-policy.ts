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
const HINT = 'expected missing, always, never, build, daily, weekly, refresh (with pull_refresh_after) or every_<duration> (e.g. every_12h, every_2d)';

/** `refresh` is not a policy by itself: with `pull_refresh_after` it becomes `every_<duration>` (readRefreshPolicy). */
export function readPullPolicy(ctx: Ctx, node: YNode, path: PathSeg[]): PullPolicy | 'refresh' | undefined {
  const s = readString(ctx, node, path, { hint: HINT });
  if (s === undefined) return undefined;
  if (s === 'refresh') return 'refresh';
  // Compose's legacy spelling of `missing`.
  if (s === 'if_not_present') return 'missing';
  if ((FIXED as readonly string[]).includes(s)) return s as PullPolicy;
  if (s.startsWith('every_') && parseEvery(s) !== undefined) return s as PullPolicy;
  ctx.issues.error(node.pos, path, `invalid pull_policy "${s.slice(0, 60)}"`, HINT);
  return undefined;
}

/**
 * Compose Specification: `pull_refresh_after` is the "time after which to refresh the image", used with
 * `pull_policy: refresh`. That is cmesh's `every_<duration>` (counted from cmesh's own last pull), so the pair becomes
 * one; either half alone would be meaningless and is refused rather than dropped.
 */
export function readRefreshPolicy(
  ctx: Ctx,
  policy: { value: PullPolicy | 'refresh' | undefined; node?: YNode },
  after: YNode | undefined,
  path: PathSeg[],
): PullPolicy | undefined {
  const refresh = policy.value === 'refresh';
  const other = policy.value === 'refresh' ? undefined : policy.value;
  if (after === undefined) {
    if (refresh) ctx.issues.error(policy.node!.pos, [...path, 'pull_policy'], 'pull_policy "refresh" needs pull_refresh_after: the time after which to pull again', 'add e.g. `pull_refresh_after: 24h`, or use daily, weekly or every_<duration>');
    return other;
  }
  const afterPath = [...path, 'pull_refresh_after'];
  const text = readString(ctx, after, afterPath, { hint: 'a duration, e.g. 12h, 2d or 1w12h' });
  if (text === undefined) return other;
  if (!refresh) {
    ctx.issues.error(after.pos, afterPath, 'pull_refresh_after only applies with pull_policy "refresh"', 'add `pull_policy: refresh`, or drop pull_refresh_after');
    return other;
  }
  if (parseEvery(`every_${text}`) === undefined) {
    ctx.issues.error(after.pos, afterPath, `invalid pull_refresh_after "${text.slice(0, 60)}"`, 'a duration, e.g. 12h, 2d or 1w12h');
    return undefined;
  }
  return `every_${text}`;
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
