// Verdict reports for CI systems: JUnit XML (one testsuite "cmesh", one testcase per service) and JSON. Report paths
// are checked before anything starts so a typo fails in a second, not after the whole environment came up.

import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CiVerdict } from './verdict.ts';

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
  // xmlbuilder2 is ~0.6 MB of the CLI bundle: loaded only when a JUnit report is asked for, not on every start.
  if (paths.junit) await writeFile(paths.junit, (await import('./report-junit.ts')).junitXml(v));
  if (paths.json) await writeFile(paths.json, jsonReport(v));
}
