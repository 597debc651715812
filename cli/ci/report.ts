// Verdict reports for CI systems: JUnit XML (one testsuite "cmesh", one testcase per service) and JSON. Report paths
// are checked before anything starts so a typo fails in a second, not after the whole environment came up.

import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { create } from 'xmlbuilder2';
import { CmeshError } from '../../daemon/api/errors.ts';
import { type CiVerdict, readinessText } from './verdict.ts';

/**
 * The JUnit dialect Jenkins' xUnit schema accepts (schema/junit-10.xsd): one `testsuites` > `testsuite` "cmesh",
 * one `testcase` per service with `failure` or `skipped`, the evidence in `system-out`. Characters XML 1.0 cannot
 * carry (control characters from logs) are dropped; xmlbuilder2 does the escaping.
 */
export function junitXml(v: CiVerdict): string {
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const failures = v.services.filter((s) => s.status === 'failed').length;
  const skipped = v.services.filter((s) => s.status === 'skipped').length;
  const time = seconds(v.durationMs);
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  const suite = doc
    // No `skipped` on testsuites: the schema CI consumes does not allow it there (testsuite carries it).
    .ele('testsuites', { name: 'cmesh', tests: String(v.services.length), failures: String(failures), time })
    .ele('testsuite', { name: 'cmesh', tests: String(v.services.length), failures: String(failures), errors: '0', skipped: String(skipped), time });
  for (const s of v.services) {
    const evidence = [
      readinessText(s).replace('=', ' '),
      ...s.probes.map((p) => `probe ${p.target} ${p.ok ? 'ok' : 'FAILED'} ${p.detail}`),
      ...s.health.map((h) => `health ${h}`),
      ...(s.logs.length > 0 ? ['last log lines:', ...s.logs.map((l) => `| ${l}`)] : []),
    ].join('\n');
    const testcase = suite.ele('testcase', { classname: `cmesh.${v.project}`, name: s.service, time });
    if (s.status === 'passed') testcase.ele('system-out').txt(evidence);
    else if (s.status === 'skipped') testcase.ele('skipped', { message: s.message ?? '' });
    else testcase.ele('failure', { message: s.message ?? 'failed', type: v.code ?? 'CMESH_E_UNHEALTHY' }).txt(evidence);
  }
  return `${doc.end({ prettyPrint: true })}\n`;
}

export function jsonReport(v: CiVerdict): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/** Fails with CMESH_E_USAGE unless `path` can be created or overwritten (a directory that exists and is writable). */
export async function assertWritable(path: string, flag: string): Promise<void> {
  const full = resolve(path);
  const fail = (why: string): never => {
    throw new CmeshError('CMESH_E_USAGE', `${flag} ${path}: ${why}`, { hint: 'point it at a writable file path; nothing was started' });
  };
  const existing = await stat(full).catch(() => undefined);
  if (existing?.isDirectory()) fail('is a directory');
  if (existing) {
    await access(full, constants.W_OK).catch(() => fail('is not writable'));
    return;
  }
  const dir = await stat(dirname(full)).catch(() => undefined);
  if (!dir?.isDirectory()) fail(`directory ${dirname(full)} does not exist`);
  await access(dirname(full), constants.W_OK).catch(() => fail(`directory ${dirname(full)} is not writable`));
}

export async function writeReports(v: CiVerdict, paths: { junit?: string; json?: string }): Promise<void> {
  if (paths.junit) await writeFile(paths.junit, junitXml(v));
  if (paths.json) await writeFile(paths.json, jsonReport(v));
}
