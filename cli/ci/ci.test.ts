// CI mode without Docker: verdicts from outcomes, JUnit that fast-xml-parser reads back, JSON report, report
// path checks, --since and --timeout validation.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { CmeshError } from '../../daemon/api/errors.ts';
import { findAll, parseXml } from '../../test/helpers/xml.ts';
import { parseSeconds } from '../commands/up.ts';
import { parseSince } from '../since.ts';
import { probeHost } from './probe.ts';
import { assertWritable, jsonReport, writeReports } from './report.ts';
import { junitXml } from './report-junit.ts';
import { buildVerdict, formatVerdict } from './verdict.ts';

const row = (service: string, desired: number, ready: number, routed = true, running = 0): ServiceTableRow =>
  ({
    project: 'p',
    service,
    desired,
    ready,
    replicas: Array.from({ length: running }, (_, i) => ({ id: `${service}#${i + 1}`, state: 'running', endpoints: [], health: { active: 'unknown', passive: 'ok' }, routable: false })),
    publishedPorts: routed ? [{ containerPort: 3000, host: '127.0.0.1', port: 8080 }] : [],
  }) as unknown as ServiceTableRow;

test('healthy: every service passes, exit 0, one JUnit testcase each', () => {
  const v = buildVerdict({
    project: 'p',
    services: ['web', 'api'],
    rows: [row('web', 2, 2), row('api', 1, 1)],
    probes: [{ service: 'web', target: 'http://127.0.0.1:8080', ok: true, detail: 'GET / → 200' }],
    durationMs: 1234,
    logs: {},
  });
  assert.equal(v.ok, true);
  assert.equal(v.exitCode, 0);
  const doc = parseXml(junitXml(v));
  const suites = findAll(doc, 'testsuite');
  assert.equal(suites.length, 1);
  assert.equal(suites[0]!.attrs['name'], 'cmesh');
  assert.deepEqual(findAll(doc, 'testcase').map((c) => c.attrs['name']), ['api', 'web']);
  assert.equal(findAll(doc, 'failure').length, 0);
  assert.match(formatVerdict(v), /^cmesh: verdict web PASS ready=2\/2$/m);
  assert.match(formatVerdict(v), /^cmesh: result PASS project=p services=2/m);
});

test('unhealthy: the named service fails with message, health and (escaped) logs; exit 6', () => {
  const error = new CmeshError('CMESH_E_UNHEALTHY', 'not ready after 5000 ms: web#1 (unhealthy)', { details: { services: ['web'] } });
  const v = buildVerdict({ project: 'p', services: ['web', 'db'], rows: [row('web', 1, 0), row('db', 1, 1)], probes: [], durationMs: 5000, error, logs: { web: ['#1 <boom> & "bad" \u0001'] } });
  assert.equal(v.exitCode, 6);
  assert.deepEqual(v.services.map((s) => s.status), ['passed', 'failed']);
  const doc = parseXml(junitXml(v));
  const failure = findAll(doc, 'failure')[0]!;
  assert.match(failure.attrs['message']!, /not ready after/);
  assert.match(failure.text, /#1 <boom> & "bad"/);
  assert.match(formatVerdict(v), /^cmesh: {3}\| #1 <boom>/m);
  assert.match(formatVerdict(v), /^cmesh: result FAIL project=p exit=6 code=CMESH_E_UNHEALTHY failing=web$/m);
});

test('a failed probe fails the service even when the daemon said ready', () => {
  const v = buildVerdict({ project: 'p', services: ['web'], rows: [row('web', 1, 1)], probes: [{ service: 'web', target: 'http://127.0.0.1:1', ok: false, detail: 'GET / → 502' }], durationMs: 1, logs: {} });
  assert.equal(v.ok, false);
  assert.equal(v.exitCode, 6);
  assert.match(v.services[0]!.message!, /502/);
});

test('build failure: exit 5, the built service fails, the others are skipped', () => {
  const error = new CmeshError('CMESH_E_BUILD_FAILED', 'service "api": step 2/2 failed', { details: { service: 'api' } });
  const v = buildVerdict({ project: 'p', services: ['api', 'web'], rows: [], probes: [], durationMs: 1, error, logs: {} });
  assert.equal(v.exitCode, 5);
  assert.deepEqual(v.services.map((s) => s.status), ['failed', 'skipped']);
  // Nothing in the service table: neither "routed" nor "not routed" is claimed.
  assert.deepEqual(v.services.map((s) => s.mesh), ['absent', 'absent']);
  assert.match(formatVerdict(v), /^cmesh: verdict api FAIL ready=0\/0 service "api": step 2\/2 failed$/m);
  const doc = parseXml(junitXml(v));
  assert.equal(findAll(doc, 'skipped').length, 1);
  assert.equal(findAll(doc, 'testsuite')[0]!.attrs['failures'], '1');
});

test('reports: written and read back; unwritable paths fail as usage errors before anything starts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-rep-'));
  try {
    const v = buildVerdict({ project: 'p', services: ['web'], rows: [row('web', 1, 1)], probes: [], durationMs: 1, logs: {} });
    await assertWritable(join(dir, 'junit.xml'), '--report');
    await writeReports(v, { junit: join(dir, 'junit.xml'), json: join(dir, 'out.json') });
    parseXml(await readFile(join(dir, 'junit.xml'), 'utf8'));
    assert.equal(JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')).services[0].status, 'passed');
    await assert.rejects(assertWritable(join(dir, 'missing', 'j.xml'), '--report'), { code: 'CMESH_E_USAGE', message: /does not exist/ });
    await assert.rejects(assertWritable(dir, '--report-json'), { code: 'CMESH_E_USAGE', message: /is a directory/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the XML reader the report tests use rejects malformed documents', () => {
  assert.throws(() => parseXml('<a><b></a>'), /malformed XML at 1:7/);
  assert.throws(() => parseXml('<a x="1" x="2"/>'), /repeated/);
  assert.throws(() => parseXml('<a/><b/>'), /one root element, found 2/);
  assert.deepEqual(parseXml('<?xml version="1.0"?>\n<a k="&amp;&quot;">t&lt;<b/>u</a>'), {
    name: 'a',
    attrs: { k: '&"' },
    children: [{ name: 'b', attrs: {}, children: [], text: '' }],
    text: 't<u',
  });
});

test('--timeout and --since validation', () => {
  assert.equal(parseSeconds('30'), 30_000);
  assert.equal(parseSeconds('1.5'), 1500);
  for (const bad of ['garbage', '', '0', '-5', '1e3x', 'Infinity']) assert.throws(() => parseSeconds(bad), { code: 'CMESH_E_USAGE' });
  assert.equal(parseSince('10m', 1_000_000), 400_000);
  assert.equal(parseSince('1h30m', 10_000_000), 10_000_000 - 5_400_000);
  assert.equal(parseSince('2024-05-01T12:00:00Z'), Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(parseSince('1714564800'), 1714564800_000);
  assert.throws(() => parseSince('yesterday'), { code: 'CMESH_E_USAGE' });
  assert.equal(probeHost('0.0.0.0'), '127.0.0.1');
});

test('a service the mesh cannot route (no ports) is judged by the daemon wait alone, not by mesh readiness', () => {
  const v = buildVerdict({ project: 'p', services: ['web', 'worker'], rows: [row('web', 2, 2), row('worker', 1, 0, false, 1)], probes: [], durationMs: 1, logs: {} });
  assert.deepEqual(v.services.map((s) => s.status), ['passed', 'passed']);
  // The line says what was checked (running replicas), not a mesh readiness of 0/1 that reads like a failure.
  assert.deepEqual(v.services.map((s) => [s.service, s.mesh, s.ready, s.running, s.desired]), [
    ['web', 'routed', 2, 0, 2],
    ['worker', 'not-routed', 0, 1, 1],
  ]);
  const text = formatVerdict(v);
  assert.match(text, /^cmesh: verdict web PASS ready=2\/2$/m);
  assert.match(text, /^cmesh: verdict worker PASS running=1\/1 \(not routed\)$/m);
  assert.doesNotMatch(text, /worker .*ready=/);
  const out = (name: string): string => findAll(findAll(parseXml(junitXml(v)), 'testcase').find((c) => c.attrs['name'] === name)!, 'system-out')[0]!.text;
  assert.match(out('worker'), /^running 1\/1 \(not routed\)$/m);
  assert.match(out('web'), /^ready 2\/2$/m);
  // The JSON report keeps ready/desired (same meaning as before) and adds mesh/running.
  const { mesh, ready, running, desired } = JSON.parse(jsonReport(v)).services[1];
  assert.deepEqual({ mesh, ready, running, desired }, { mesh: 'not-routed', ready: 0, running: 1, desired: 1 });
  const bad = buildVerdict({ project: 'p', services: ['web'], rows: [row('web', 2, 1)], probes: [], durationMs: 1, logs: {} });
  assert.equal(bad.services[0]?.status, 'failed');
});
