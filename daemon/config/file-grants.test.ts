// secrets / configs through the loader (sources resolved, grants normalized, bad input with positions) and the
// daemon's materializer (bind as is, or written once with mode and a content-hash name).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose interpolation syntax under test.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { materializeFileGrants, removeFileGrants } from '../file-grants.ts';
import { load, loadError, where } from './test-helpers.ts';

const doc = (rest: string) => `services:\n  web:\n    image: nginx\n${rest}`;

test('sources: file (absolute), environment (value looked up), content; grants: short and long forms', () => {
  const { project } = load(
    doc(
      [
        '    secrets: [pw, { source: tok, target: token, uid: "1000", gid: 1000, mode: 0440 }, { source: tok, target: /abs/t, mode: "0400" }]',
        '    configs: [conf, { source: conf, target: etc/x.conf }]',
        'secrets:',
        '  pw: { file: ./pw.txt }',
        '  tok: { environment: TOKEN }',
        'configs:',
        '  conf: { content: "a=${A:-1}" }',
        '',
      ].join('\n'),
    ),
    { env: { TOKEN: 't0k' } },
  );
  assert.deepEqual(project.secrets, {
    pw: { name: 'pw', kind: 'secret', file: '/proj/pw.txt' },
    tok: { name: 'tok', kind: 'secret', environment: 'TOKEN', content: 't0k' },
  });
  assert.deepEqual(project.configs, { conf: { name: 'conf', kind: 'config', content: 'a=1' } });
  const web = project.services['web']!;
  assert.deepEqual(web.secrets, [
    { source: 'pw', target: '/run/secrets/pw' },
    { source: 'tok', target: '/run/secrets/token', uid: 1000, gid: 1000, mode: 0o440 },
    { source: 'tok', target: '/abs/t', mode: 0o400 },
  ]);
  assert.deepEqual(web.configs, [
    { source: 'conf', target: '/conf' },
    { source: 'conf', target: '/etc/x.conf' },
  ]);
});

test('0o-literal modes are kept; a service without grants has none', () => {
  const { project } = load(doc('    secrets: [{ source: s, mode: 0o440 }]\nsecrets:\n  s: { file: ./s }\n'));
  assert.equal(project.services['web']?.secrets?.[0]?.mode, 0o440);
  // 0o400 is 256 in decimal, whose digits are all octal: it must not be re-read as 0o256.
  const owner = load(doc('    secrets: [{ source: s, mode: 0o400 }, { source: s, target: t, mode: 0x124 }]\nsecrets:\n  s: { file: ./s }\n'));
  assert.deepEqual(owner.project.services['web']?.secrets?.map((g) => g.mode), [0o400, 0x124]);
  assert.equal(load(doc('')).project.services['web']?.secrets, undefined);
  assert.equal(load(doc('')).project.secrets, undefined);
});

test('bad input: undefined grant, external, unset variable, no or two sources, bad mode', () => {
  const cases: [string, RegExp, string][] = [
    ['    secrets: [nope]\n', /refers to undefined secret "nope"/, '4:15 services.web.secrets[0]'],
    ['    secrets: [s]\nsecrets:\n  s: { external: true }\n', /external secrets live in a Swarm cluster/, '6:6 secrets.s.external'],
    ['    secrets: [s]\nsecrets:\n  s: { environment: NOT_SET_ANYWHERE }\n', /reads the variable NOT_SET_ANYWHERE, which is not set/, '6:21 secrets.s.environment'],
    ['    secrets: [s]\nsecrets:\n  s: { file: ./a, environment: B }\n', /needs exactly one of/, '6:6 secrets.s'],
    ['    secrets: [s]\nsecrets:\n  s: { content: inline }\n', /needs exactly one of `file:` or `environment:`/, '6:6 secrets.s'],
    ['    secrets: [{ source: s, mode: rwx }]\nsecrets:\n  s: { file: ./a }\n', /octal file mode/, '4:34 services.web.secrets[0].mode'],
  ];
  for (const [rest, message, at] of cases) {
    const e = loadError(doc(rest));
    const i = e.issues.findIndex((x) => message.test(x.message));
    assert.ok(i >= 0, `${rest}: ${e.issues.map((x) => x.message).join('; ')}`);
    assert.equal(where(e)[i], at, rest);
  }
});

test('materialize: a plain file is bound as is; content is written with its mode under a content-hash name; down removes it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-files-'));
  try {
    await writeFile(join(dir, 'pw.txt'), 'hunter2');
    const { project } = load(
      doc('    secrets: [pw, { source: pw, target: copy, mode: 0400 }]\n    configs: [conf]\nsecrets:\n  pw: { file: ./pw.txt }\nconfigs:\n  conf: { content: hello }\n'),
      {},
      join(dir, 'compose.yaml'),
    );
    const out = await materializeFileGrants(join(dir, 'files'), project);
    const mounts = out.services['web']!.volumes;
    assert.equal(mounts.length, 3);
    assert.deepEqual(mounts[0], { type: 'bind', source: join(dir, 'pw.txt'), target: '/run/secrets/pw', readOnly: true });
    const copy = mounts[1]!.source!;
    assert.ok(copy.startsWith(join(dir, 'files', project.name)), copy);
    assert.equal(await readFile(copy, 'utf8'), 'hunter2');
    assert.equal((await stat(copy)).mode & 0o777, 0o400);
    assert.equal((await stat(mounts[2]!.source!)).mode & 0o777, 0o444);
    assert.equal(mounts[2]!.target, '/conf');
    // Same content, same name (no roll); other content, another name (the spec hash changes, replicas roll).
    const again = await materializeFileGrants(join(dir, 'files'), project);
    assert.equal(again.services['web']!.volumes[2]!.source, mounts[2]!.source);
    const changed = { ...project, configs: { conf: { name: 'conf', kind: 'config' as const, content: 'bye' } } };
    assert.notEqual((await materializeFileGrants(join(dir, 'files'), changed)).services['web']!.volumes[2]!.source, mounts[2]!.source);
    await removeFileGrants(join(dir, 'files'), project.name);
    await assert.rejects(stat(join(dir, 'files', project.name)), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
