// The README's key table is the user's answer to "what would differ from Compose": it must list every key of the
// specification, and say what the loader really does with it (daemon/config/schema.ts decides that).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROOT } from '../../test/helpers/docker.ts';
import { SWARM_SERVICE_KEYS, SWARM_TOP_LEVEL_KEYS, swarmCell } from '../swarm/swarm-keys.ts';
import { SERVICE_KEYS, SERVICE_UNSUPPORTED, TOP_LEVEL_KEYS, TOP_LEVEL_UNSUPPORTED } from './schema.ts';
import { SPEC_SERVICE_KEYS, SPEC_TOP_LEVEL_KEYS } from './spec-keys.ts';

const STATUSES = ['honoured', 'ignored', 'error'] as const;
type Status = (typeof STATUSES)[number];

function readmeSection(): string {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const start = readme.indexOf('### Every key of the Compose Specification');
  assert.ok(start >= 0, 'README has no "Every key of the Compose Specification" section');
  return readme.slice(start, readme.indexOf('\n### ', start + 1));
}

/** Rows of the "Every key of the Compose Specification" table: key → local-target status. */
function readmeTable(): Map<string, Status> {
  const rows = new Map<string, Status>();
  for (const line of readmeSection().split('\n')) {
    const m = /^\| `([^`]+)` \| (\w+) \|/.exec(line);
    if (!m) continue;
    const status = m[2] as Status;
    assert.ok(STATUSES.includes(status), `README row ${m[1]}: status "${m[2]}" is not one of ${STATUSES.join(', ')}`);
    assert.ok(!rows.has(m[1]!), `README lists ${m[1]} twice`);
    rows.set(m[1]!, status);
  }
  return rows;
}

function expected(key: string, supported: ReadonlySet<string>, unsupported: ReadonlySet<string>): Status | undefined {
  if (supported.has(key)) return 'honoured';
  if (unsupported.has(key)) return 'ignored';
  return undefined;
}

test('every key of the specification is classified by the loader: honoured, or a named warning', () => {
  const unknownTop = SPEC_TOP_LEVEL_KEYS.filter((k) => expected(k, TOP_LEVEL_KEYS, TOP_LEVEL_UNSUPPORTED) === undefined);
  const unknownService = SPEC_SERVICE_KEYS.filter((k) => expected(k, SERVICE_KEYS, SERVICE_UNSUPPORTED) === undefined);
  assert.deepEqual([...unknownTop, ...unknownService], [], 'keys the loader would call unknown (a typo) instead of naming them');
});

test('the README table lists every key of the specification with the status the loader gives it', () => {
  const rows = readmeTable();
  const wrong: string[] = [];
  const check = (row: string, want: Status | undefined): void => {
    const got = rows.get(row);
    if (got === undefined) wrong.push(`${row}: missing from the README table`);
    else if (want !== undefined && got !== want && !(want === 'ignored' && got === 'error')) wrong.push(`${row}: README says ${got}, the loader: ${want}`);
  };
  for (const k of SPEC_TOP_LEVEL_KEYS) check(`${k}`, expected(k, TOP_LEVEL_KEYS, TOP_LEVEL_UNSUPPORTED));
  for (const k of SPEC_SERVICE_KEYS) check(`services.*.${k}`, expected(k, SERVICE_KEYS, SERVICE_UNSUPPORTED));
  assert.deepEqual(wrong, []);
  const specRows = new Set([...SPEC_TOP_LEVEL_KEYS, ...SPEC_SERVICE_KEYS.map((k) => `services.*.${k}`)]);
  assert.deepEqual([...rows.keys()].filter((r) => !specRows.has(r)), [], 'README rows for keys the specification does not have');
});

/** Rows of the same table: key → its Swarm cell (third column), `\|` unescaped. */
function readmeSwarmColumn(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readmeSection().split('\n')) {
    const m = /^\| `([^`]+)` \| \w+ \| ((?:[^|\\]|\\\|)*) \|/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.replaceAll('\\|', '|'));
  }
  return rows;
}

test("the README's Swarm column is daemon/swarm/swarm-keys.ts's decision for every key, word for word", () => {
  const cells = readmeSwarmColumn();
  const wrong: string[] = [];
  const check = (row: string, want: string | undefined): void => {
    const got = cells.get(row);
    if (want === undefined) wrong.push(`${row}: swarm-keys.ts has no decision for it`);
    else if (got === undefined) wrong.push(`${row}: no Swarm cell in the README`);
    else if (got !== want) wrong.push(`${row}: README says "${got}", swarm-keys.ts: "${want}"`);
  };
  for (const k of SPEC_TOP_LEVEL_KEYS) check(k, SWARM_TOP_LEVEL_KEYS[k] && swarmCell(SWARM_TOP_LEVEL_KEYS[k]));
  for (const k of SPEC_SERVICE_KEYS) check(`services.*.${k}`, SWARM_SERVICE_KEYS[k] && swarmCell(SWARM_SERVICE_KEYS[k]));
  assert.deepEqual(wrong, []);
});
