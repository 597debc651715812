// Verdict reports for CI systems: JUnit XML (one testsuite "cmesh", one testcase per service) and JSON. Report paths
// are checked before anything starts so a typo fails in a second, not after the whole environment came up.

import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CmeshError } from '../../daemon/api/errors.ts';
import { type CiVerdict, readinessText } from './verdict.ts';

export function xmlEscape(text: string): string {
  // Control characters other than tab/newline/CR are not allowed in XML 1.0 at all.
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
  return clean.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function junitXml(v: CiVerdict): string {
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const failures = v.services.filter((s) => s.status === 'failed').length;
  const skipped = v.services.filter((s) => s.status === 'skipped').length;
  const cases = v.services.map((s) => {
    const open = `    <testcase classname="cmesh.${xmlEscape(v.project)}" name="${xmlEscape(s.service)}" time="${seconds(v.durationMs)}"`;
    const evidence = [
      readinessText(s).replace('=', ' '),
      ...s.probes.map((p) => `probe ${p.target} ${p.ok ? 'ok' : 'FAILED'} ${p.detail}`),
      ...s.health.map((h) => `health ${h}`),
      ...(s.logs.length > 0 ? ['last log lines:', ...s.logs.map((l) => `| ${l}`)] : []),
    ].join('\n');
    if (s.status === 'passed') return `${open}>\n      <system-out>${xmlEscape(evidence)}</system-out>\n    </testcase>`;
    if (s.status === 'skipped') return `${open}>\n      <skipped message="${xmlEscape(s.message ?? '')}"/>\n    </testcase>`;
    return `${open}>\n      <failure message="${xmlEscape(s.message ?? 'failed')}" type="${xmlEscape(v.code ?? 'CMESH_E_UNHEALTHY')}">${xmlEscape(evidence)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cmesh" tests="${v.services.length}" failures="${failures}" skipped="${skipped}" time="${seconds(v.durationMs)}">`,
    `  <testsuite name="cmesh" tests="${v.services.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(v.durationMs)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
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
