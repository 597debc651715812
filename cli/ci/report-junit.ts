// The JUnit report of `up --wait --report`, apart from report.ts so its XML library loads only when one is written.

import { create } from 'xmlbuilder2';
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
