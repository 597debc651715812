// `--since` values: a duration back from now (`90s`, `10m`, `1h30m`, `2d`) or a timestamp (RFC 3339 / ISO 8601, or
// epoch seconds). Returns epoch ms; anything else is a usage error.

import { CmeshError } from '../daemon/api/errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSince(text: string, now: number = Date.now()): number {
  const value = text.trim();
  if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(value)) {
    let total = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
    return now - total;
  }
  if (/^\d{9,11}(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (Number.isFinite(t)) return t;
  }
  throw new CmeshError('CMESH_E_USAGE', `--since takes a duration (10m, 1h30m) or a timestamp (2024-05-01T12:00:00Z), not "${text}"`);
}
