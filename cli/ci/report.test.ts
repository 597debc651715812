// The JUnit report against the schema CI systems validate it with (schema/junit-10.xsd, Jenkins' xUnit plugin) by
// libxml2's xmllint, and read back with fast-xml-parser: hostile service names, messages and log lines survive intact.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { findAll, parseXml } from '../../test/helpers/xml.ts';
import { junitXml } from './report-junit.ts';
import type { CiVerdict, ServiceVerdict } from './verdict.ts';

const XSD = new URL('../../schema/junit-10.xsd', import.meta.url).pathname;
const run = promisify(execFile);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-junit-'));
  await run('xmllint', ['--version']).catch((err: Error) => assert.fail(`xmllint is missing: run scripts/ensure-tools.sh (${err.message})`));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** xmllint's verdict on the document: '' when it is valid against the schema, else its complaints. */
async function schemaErrors(xml: string, name: string): Promise<string> {
  const file = join(dir, `${name}.xml`);
  await writeFile(file, xml);
  try {
    await run('xmllint', ['--noout', '--nonet', '--schema', XSD, file]);
    return '';
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? String(err);
  }
}

const NASTY = `<tag> & "quotes" 'apos' ]]> \u0001\u0008\u000b bell, emoji 😀, CDATA <![CDATA[x]]>`;
const CLEAN = NASTY.replace(/[\u0001\u0008\u000b]/g, '');

function service(name: string, status: ServiceVerdict['status'], over: Partial<ServiceVerdict> = {}): ServiceVerdict {
  return { service: name, status, mesh: 'routed', ready: 1, running: 1, desired: 1, probes: [], health: [], logs: [], ...over } as ServiceVerdict;
}

const verdicts: Record<string, CiVerdict> = {
  passed: { project: 'shop', ok: true, exitCode: 0, durationMs: 1234, services: [service('web', 'passed', { probes: [{ service: 'web', target: 'http://127.0.0.1:8080', ok: true, detail: 'GET / → 200' }] })] },
  mixed: {
    project: `p${NASTY}`,
    ok: false,
    exitCode: 6,
    code: 'CMESH_E_UNHEALTHY',
    message: NASTY,
    durationMs: 1_234_567,
    services: [
      service(`svc${NASTY}`, 'failed', { message: NASTY, health: [NASTY], logs: [NASTY, ''] }),
      service('db', 'passed'),
      service('api', 'skipped', { message: NASTY }),
    ],
  },
  empty: { project: 'none', ok: true, exitCode: 0, durationMs: 0, services: [] },
};

test('every report is valid against the JUnit schema CI systems consume', async () => {
  for (const [name, v] of Object.entries(verdicts)) assert.equal(await schemaErrors(junitXml(v), name), '', name);
});

test('the schema check is real: it refuses what CI would refuse', async () => {
  const valid = junitXml(verdicts['mixed']!);
  // An attribute the schema does not allow (the hand-written report used to put `skipped` on <testsuites>)...
  assert.match(await schemaErrors(valid.replace('<testsuites ', '<testsuites skipped="1" '), 'extra-attr'), /attribute 'skipped' is not allowed/);
  // ...a control character, which XML 1.0 cannot carry at all...
  assert.match(await schemaErrors(valid.replace('<system-out>', '<system-out>&#1;'), 'control-char'), /invalid xmlChar value 1/);
  // ...and a testsuite without its required counters.
  assert.match(await schemaErrors(valid.replace(/ errors="0"/, ''), 'missing-attr'), /attribute 'errors' is required/);
});

test('names, messages and log lines read back exactly, minus the characters XML cannot carry', () => {
  const doc = parseXml(junitXml(verdicts['mixed']!));
  const [failed, passed, skipped] = findAll(doc, 'testcase');
  assert.equal(failed?.attrs['name'], `svc${CLEAN}`);
  assert.equal(failed?.attrs['classname'], `cmesh.p${CLEAN}`);
  assert.equal(failed?.attrs['time'], '1234.567');
  const failure = findAll(failed!, 'failure')[0]!;
  assert.deepEqual(failure.attrs, { message: CLEAN, type: 'CMESH_E_UNHEALTHY' });
  assert.deepEqual(failure.text.split('\n'), ['ready 1/1', `health ${CLEAN}`, 'last log lines:', `| ${CLEAN}`, '| ']);
  assert.equal(findAll(passed!, 'system-out')[0]?.text, 'ready 1/1');
  assert.equal(findAll(skipped!, 'skipped')[0]?.attrs['message'], CLEAN);
  const suite = findAll(doc, 'testsuite')[0]!;
  assert.deepEqual(suite.attrs, { name: 'cmesh', tests: '3', failures: '1', errors: '0', skipped: '1', time: '1234.567' });
  assert.deepEqual(doc.attrs, { name: 'cmesh', tests: '3', failures: '1', time: '1234.567' });
});
