// Golden tests of plan()/planDown(): each case in plan-cases.ts must render exactly as fixtures/plans/<case>.txt.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { groupObserved } from './observe.ts';
import { plan, planDown } from './plan.ts';
import { cases, type PlanCase } from './plan-cases.ts';
import { formatPlan, formatPlanError } from './plan-format.ts';
import { EMPTY_VIEW } from './supervisor.ts';
import { NOW } from './testing.ts';

const dir = join(import.meta.dirname, '../../fixtures/plans');
const update = process.env['UPDATE_GOLDEN'] === '1';

function render(c: PlanCase): string {
  const name = c.desired?.project.name ?? c.projectName ?? 'unknown';
  const known = Object.keys(c.desired?.project.services ?? {});
  const networks = c.networks ?? [{ id: `n-${name}`, name: `${name}_default`, labels: {} }];
  const observed = groupObserved(name, c.containers, known, networks, c.volumes ?? []);
  try {
    if (c.down) return formatPlan(planDown(c.desired, observed, c.down, NOW));
    if (!c.desired) throw new Error(`case ${c.name} needs a desired state`);
    return formatPlan(plan(c.desired, observed, { now: NOW, supervisor: EMPTY_VIEW, ...c.ctx }));
  } catch (error) {
    return formatPlanError(error);
  }
}

test('at least 20 golden cases with unique names', () => {
  assert.ok(cases.length >= 20, `only ${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(`golden plan: ${c.name}`, () => {
    const actual = render(c);
    const file = join(dir, `${c.name}.txt`);
    if (update || !existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, actual);
      if (!update) assert.fail(`wrote missing golden ${file}; review it and re-run`);
      return;
    }
    assert.equal(actual, readFileSync(file, 'utf8'), `plan differs from ${file}; UPDATE_GOLDEN=1 rewrites it`);
  });
}

test('plan is pure: same input, same plan, inputs untouched', () => {
  for (const c of cases.filter((x) => !x.down && x.desired)) {
    const before = JSON.stringify(c);
    assert.equal(render(c), render(c));
    assert.equal(JSON.stringify(c), before, c.name);
  }
});
