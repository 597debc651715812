// The swarm decision table covers every key of the specification, and says exactly what translate.ts warns about:
// a sample service setting every key the table warns about must produce those warnings and no others.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProjectFromSources } from '../config/load.ts';
import { SERVICE_UNSUPPORTED, TOP_LEVEL_UNSUPPORTED } from '../config/schema.ts';
import { SPEC_SERVICE_KEYS, SPEC_TOP_LEVEL_KEYS } from '../config/spec-keys.ts';
import { SWARM_SERVICE_KEYS, SWARM_TOP_LEVEL_KEYS, type SwarmKeyDecision } from './swarm-keys.ts';
import { swarmWarnings } from './translate.ts';

const SAMPLE = fileURLToPath(new URL('../../fixtures/swarm-keys/every-warned-key.yaml', import.meta.url));

function load(text: string) {
  return loadProjectFromSources([{ file: SAMPLE, text }], { env: {} });
}

const keysWhere = (table: Readonly<Record<string, SwarmKeyDecision>>, pick: (d: SwarmKeyDecision) => boolean): string[] =>
  Object.keys(table)
    .filter((k) => pick(table[k]!))
    .sort();

test('the swarm table classifies exactly the keys of the specification', () => {
  assert.deepEqual(Object.keys(SWARM_TOP_LEVEL_KEYS).sort(), [...SPEC_TOP_LEVEL_KEYS].sort());
  assert.deepEqual(Object.keys(SWARM_SERVICE_KEYS).sort(), [...SPEC_SERVICE_KEYS].sort());
});

test('the keys the table leaves to the loader are the ones the loader warns about on every target', () => {
  assert.deepEqual(keysWhere(SWARM_SERVICE_KEYS, (d) => d.loader === true), [...SERVICE_UNSUPPORTED].sort());
  assert.deepEqual(keysWhere(SWARM_TOP_LEVEL_KEYS, (d) => d.loader === true), [...TOP_LEVEL_UNSUPPORTED].sort());
});

test('every key translate.ts warns about is warned or partial in the table, with its reason, and every warned key is warned', () => {
  const { project, warnings: loaderWarnings } = load(readFileSync(SAMPLE, 'utf8'));
  assert.deepEqual(
    loaderWarnings.map((w) => w.message),
    [],
    'the sample must load without loader warnings, so every warning below is the swarm target’s',
  );
  const warnings = swarmWarnings(project, Object.keys(project.services).sort());
  const serviceKeys = new Set(warnings.filter((w) => w.service !== undefined).map((w) => w.key));
  const topKeys = new Set(warnings.filter((w) => w.service === undefined).map((w) => w.key));
  for (const w of warnings) {
    const d = (w.service === undefined ? SWARM_TOP_LEVEL_KEYS : SWARM_SERVICE_KEYS)[w.key];
    assert.ok(d && (d.status === 'warned' || d.status === 'partial') && !d.loader, `${w.key} is warned but the table says ${d?.status}`);
    assert.ok(w.message.endsWith(`${w.key} ${d.why}`), `${w.key}: the message does not carry the table's reason: ${w.message}`);
  }
  const translated = (d: SwarmKeyDecision) => (d.status === 'warned' || d.status === 'partial') && !d.loader && d.reportedAs === undefined;
  assert.deepEqual([...serviceKeys].sort(), keysWhere(SWARM_SERVICE_KEYS, translated));
  assert.deepEqual([...topKeys].sort(), keysWhere(SWARM_TOP_LEVEL_KEYS, translated));
  for (const k of keysWhere(SWARM_SERVICE_KEYS, (d) => d.reportedAs !== undefined)) assert.ok(serviceKeys.has(SWARM_SERVICE_KEYS[k]!.reportedAs!), `${k} is reported as a warning nobody gave`);
});

test('a plain service gets no swarm warning: honoured keys are never warned', () => {
  const { project } = load('name: keys\nservices:\n  web:\n    image: example/web:1\n    cpus: 0.5\n    mem_limit: 64m\n    mem_reservation: 16m\n    pids_limit: 100\n    init: true\n    restart: on-failure:3\n');
  assert.deepEqual(swarmWarnings(project, ['web']), []);
});
