// `cmesh run`'s Compose v2 flags: parsed as Compose does, mapped onto the request, or refused by name with a hint.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CmeshError } from '../daemon/api/errors.ts';
import type { ProjectSpec } from '../daemon/api/project.ts';
import { loadProjectFromSources } from '../daemon/config/load.ts';
import { noTtyFlag } from './commands/run.ts';
import { parseLabelFlags, readEnvFromFiles, refuseRunFlags, servicePorts, withPullPolicy } from './run-options.ts';
import { commandAfterService } from './verb-operands.ts';

const load = (services: string): ProjectSpec => loadProjectFromSources([{ file: '/p/compose.yaml', text: `name: shop\nservices:\n${services}` }]).project;
const usage = (fn: () => unknown, code = 'CMESH_E_USAGE') => assert.throws(fn, (e: unknown) => e instanceof CmeshError && e.code === code);

test('-l KEY=VAL, KEY alone is an empty value; cmesh’s own labels are refused', () => {
  assert.deepEqual(parseLabelFlags(['job=migrate', 'a=b=c', 'flag']), { job: 'migrate', a: 'b=c', flag: '' });
  usage(() => parseLabelFlags(['dev.cmesh.oneoff=false']));
  usage(() => parseLabelFlags(['=x']));
});

test('--service-ports takes the service’s published ports (a range’s first), not its exposed ones', () => {
  const p = load(`  web:
    image: x
    ports: ["8080:80", "5353:53/udp", "9000-9005:3000", "9229"]
    expose: [7000]
`);
  assert.deepEqual(servicePorts(p, 'web'), [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp' },
    { hostPort: 9000, containerPort: 3000, protocol: 'tcp' },
  ]);
});

test('--env-from-file reads dotenv files in order; a bad line is CMESH_E_ENV_FILE at file:line:col', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cmesh-run-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.env'), ['A=1', 'B="two words"', 'C=$HOME', ''].join('\n'));
  await writeFile(join(dir, 'b.env'), 'A=override\n');
  await writeFile(join(dir, 'bad.env'), 'OK=1\n1BAD=x\n');
  assert.deepEqual(readEnvFromFiles(['a.env', 'b.env'], dir, { HOME: '/root' }), { A: 'override', B: 'two words', C: '/root' });
  assert.throws(
    () => readEnvFromFiles(['bad.env'], dir, {}),
    (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_ENV_FILE' && e.message.includes(`${join(dir, 'bad.env')}:2:1`),
  );
  usage(() => readEnvFromFiles(['missing.env'], dir, {}), 'CMESH_E_ENV_FILE');
});

test('--pull replaces the run service’s pull_policy only; `policy` keeps it; anything else is refused', () => {
  const p = load('  web: {image: x}\n  db: {image: y}\n');
  assert.equal(withPullPolicy(p, 'web', 'always').services['web']?.pullPolicy, 'always');
  assert.equal(withPullPolicy(p, 'web', 'always').services['db']?.pullPolicy, undefined);
  assert.equal(withPullPolicy(p, 'web', 'policy'), p);
  usage(() => withPullPolicy(p, 'web', 'sometimes'));
});

test('--remove-orphans is refused by name with what to do instead', () => {
  assert.throws(
    () => refuseRunFlags({ removeOrphans: true }),
    (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_USAGE' && e.message.includes('--remove-orphans') && /cmesh up --remove-orphans/.test(e.hint ?? ''),
  );
  refuseRunFlags({ rm: true, detach: true });
});

test('the new flags parse, and their values are never taken for the service', async () => {
  const argv = ['run', '-l', 'job=m', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', '--env-from-file', 'x.env', '--pull', 'never', '-P', 'web', 'id'];
  assert.deepEqual(commandAfterService(argv).slice(-3), ['web', '--', 'id']);
  const { buildProgram } = await import('./program.ts');
  const ctx = { stdout: { write: () => true, isTTY: true }, stderr: { write: () => true }, env: {}, cwd: '/' };
  const program = buildProgram(ctx);
  const sub = program.commands.find((c) => c.name() === 'run')!;
  sub.action(() => undefined);
  await program.parseAsync(commandAfterService(argv), { from: 'user' });
  const { label, capAdd, capDrop, envFromFile, pull, servicePorts: ports } = sub.opts();
  assert.deepEqual({ label, capAdd, capDrop, envFromFile, pull, servicePorts: ports }, {
    label: ['job=m'],
    capAdd: ['NET_ADMIN'],
    capDrop: ['CHOWN'],
    envFromFile: ['x.env'],
    pull: 'never',
    servicePorts: true,
  });
  for (const [flag, build] of [['--build', true], ['--no-build', false]] as const) {
    const again = buildProgram(ctx);
    const run = again.commands.find((c) => c.name() === 'run')!;
    run.action(() => undefined);
    await again.parseAsync(['run', '--rm', '-d', '-i', flag, 'web'], { from: 'user' });
    assert.deepEqual([run.opts()['build'], run.opts()['rm'], run.opts()['detach']], [build, true, true]);
  }
});

test('a TTY unless -T/--no-tty/--no-TTY: declaring Compose’s -t must not turn the default off', async () => {
  const { buildProgram } = await import('./program.ts');
  const ctx = { stdout: { write: () => true, isTTY: true }, stderr: { write: () => true }, env: {}, cwd: '/' };
  for (const [flags, noTty] of [[[], false], [['-t'], false], [['-T'], true], [['--no-tty'], true], [['--no-TTY'], true]] as const) {
    const program = buildProgram(ctx);
    const run = program.commands.find((c) => c.name() === 'run')!;
    run.action(() => undefined);
    await program.parseAsync(['run', ...flags, 'web'], { from: 'user' });
    assert.equal(noTtyFlag(run.opts()), noTty, flags.join(' ') || 'no flag');
  }
});
