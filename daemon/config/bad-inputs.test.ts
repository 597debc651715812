// Bad compose files from fixtures/configs/bad: each must fail with the exact code, path and line:col.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorCode } from '../api/errors.ts';
import { fixture, loadError, where } from './test-helpers.ts';

interface Case {
  file: string;
  code: ErrorCode;
  /** `line:col path`, in report order. */
  at: string[];
  message?: RegExp;
}

const CASES: Case[] = [
  { file: 'port-too-many-colons.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['6:9 services.web.ports[1]'], message: /too many ":"/ },
  { file: 'port-range-mismatch.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:13 services.web.ports[0]'], message: /differ in size/ },
  { file: 'port-out-of-range.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:9 services.web.ports[0]'], message: /invalid host port "70000"/ },
  { file: 'bad-duration.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['6:17 services.api.healthcheck.interval'], message: /invalid duration/ },
  { file: 'bad-restart.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:14 services.api.restart'], message: /invalid restart policy "sometimes"/ },
  { file: 'unknown-dependency.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:9 services.web.depends_on[0]'], message: /undefined service "dbb"/ },
  { file: 'circular-dependency.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['12:18 services.c.depends_on[0]'], message: /a → b → c → a/ },
  { file: 'no-image-no-build.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:3 services.worker'], message: /neither an image nor a build/ },
  { file: 'scale-conflict.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:12 services.web.scale'], message: /disagree/ },
  { file: 'image-wrong-type.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['3:12 services.web.image'], message: /expected a string, got a list/ },
  { file: 'environment-string.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:18 services.web.environment'] },
  { file: 'cmesh-bad-lb.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:11 services.web.x-cmesh.lb'], message: /invalid value "fastest"/ },
  { file: 'cmesh-bad-health-port.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['7:15 services.web.x-cmesh.health.port'], message: /out of range/ },
  { file: 'volume-relative-target.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:9 services.web.volumes[0]'], message: /not absolute/ },
  { file: 'undefined-volume.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:9 services.db.volumes[0]'], message: /undefined volume "dbdata"/ },
  { file: 'undefined-network.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['6:9 services.web.networks[1]'], message: /undefined network "backend"/ },
  { file: 'yaml-unclosed-flow.yaml', code: 'CMESH_E_CONFIG_YAML', at: ['5:1'], message: /YAML syntax error/ },
  { file: 'duplicate-key.yaml', code: 'CMESH_E_CONFIG_YAML', at: ['4:5 services.web.image'], message: /duplicate key/ },
  { file: 'proto-key.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['2:3 services.__proto__'], message: /not allowed/ },
  { file: 'complex-key.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['2:5 services'], message: /non-scalar key/ },
  { file: 'required-variable.yaml', code: 'CMESH_E_CONFIG_INTERPOLATION', at: ['5:26 services.db.environment.POSTGRES_PASSWORD'], message: /DB_PASSWORD is missing a value: set DB_PASSWORD/ },
  { file: 'interpolation-syntax.yaml', code: 'CMESH_E_CONFIG_INTERPOLATION', at: ['3:12 services.web.image', '5:12 services.web.labels.bad'] },
  { file: 'top-level-list.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['1:1'], message: /must be a mapping/ },
  { file: 'depends-bad-condition.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['6:20 services.web.depends_on.db.condition'] },
  { file: 'healthcheck-bad-test.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:14 services.web.healthcheck.test[0]'], message: /"RUN"/ },
  { file: 'replicas-not-int.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['5:17 services.web.deploy.replicas'], message: /expected an integer/ },
  { file: 'bad-project-name.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['1:7 name'], message: /not a valid project name/ },
  { file: 'bad-service-name.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['2:3 services["web app"]'], message: /invalid service name/ },
  { file: 'watch-bad-action.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['6:19 services.web.develop.watch[0].action'], message: /"copy"/ },
  { file: 'grace-period-number.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:24 services.web.stop_grace_period'], message: /expected a string/ },
  { file: 'volume-bad-mode.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:15 services.web.volumes[0]'], message: /mode "rx"/ },
  { file: 'deep-flow.yaml', code: 'CMESH_E_CONFIG_LIMIT', at: ['4:77'], message: /nesting deeper than 64/ },
  { file: 'alias-bomb.yaml', code: 'CMESH_E_CONFIG_LIMIT', at: ['3:55'], message: /excessive use of alias "\*a1"/ },
  { file: 'unknown-anchor.yaml', code: 'CMESH_E_CONFIG_YAML', at: ['3:9 services.web'], message: /unknown anchor "\*defaults"/ },
  { file: 'cmesh-bad-hash-key.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['6:17 services.web.x-cmesh.hash_key'] },
  { file: 'expose-bad.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:22 services.web.expose[1]'] },
  { file: 'empty.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['1:1'], message: /empty compose file/ },
  { file: 'ports-scalar.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:12 services.web.ports'], message: /expected a list of ports/ },
  { file: 'self-dependency.yaml', code: 'CMESH_E_CONFIG_INVALID', at: ['4:18 services.web.depends_on[0]'], message: /depends on itself/ },
  {
    file: 'many-errors.yaml',
    code: 'CMESH_E_CONFIG_INVALID',
    at: [
      '7:9 services.web.ports[1]',
      '8:14 services.web.restart',
      '13:16 services.web.healthcheck.retries',
      '15:17 services.web.x-cmesh.protocol',
      '20:13 services.api.build.args',
      '21:24 services.api.stop_grace_period',
      '10:18 services.web.depends_on[0]',
    ],
  },
];

test('there are at least 30 distinct bad inputs', () => {
  assert.ok(CASES.length >= 30, `only ${CASES.length}`);
});

for (const c of CASES) {
  test(`bad input ${c.file}`, () => {
    const { file, text } = fixture(`bad/${c.file}`);
    const err = loadError([{ file, text }]);
    assert.equal(err.code, c.code, err.message);
    assert.deepEqual(where(err), c.at, JSON.stringify(err.issues, null, 1));
    for (const issue of err.issues) {
      assert.equal(issue.position?.file, file);
      assert.ok(issue.message.length > 0);
    }
    if (c.message) assert.match(err.issues[0]?.message ?? '', c.message);
  });
}

test('every issue of a failing load carries a hint where one helps', () => {
  const err = loadError([fixture('bad/port-too-many-colons.yaml')]);
  assert.match(err.issues[0]?.hint ?? '', /expected a port like "8080:80"/);
});

test('many-errors also produces warnings for obsolete and unsupported keys', () => {
  const err = loadError([fixture('bad/many-errors.yaml')]);
  const warnings = err.details['warnings'] as { message: string; path?: string; position?: { line: number; col: number } }[];
  assert.ok(warnings.some((w) => w.path === 'version' && w.position?.line === 1 && w.position.col === 1));
  assert.ok(warnings.some((w) => w.path === 'services.web.isolation' && w.position?.line === 9 && w.position.col === 5));
});
