import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from '../../daemon/api/errors.ts';
import { parseEnvFlags, parseIndex } from '../interactive-options.ts';
import { parseCpOperand } from './cp.ts';
import { parsePublishFlag, parseVolumeFlag } from './run.ts';

const usage = (fn: () => unknown) => assert.throws(fn, (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_USAGE');

test('-e KEY=VAL, and -e KEY from cmesh’s environment (left out when unset)', () => {
  assert.deepEqual(parseEnvFlags(['A=1', 'B=x=y', 'HOME', 'UNSET', 'E='], { HOME: '/root' }), { A: '1', B: 'x=y', HOME: '/root', E: '' });
  usage(() => parseEnvFlags(['=1'], {}));
});

test('-v: host paths (relative to the working directory) bind, names are volumes, :ro is read-only', () => {
  assert.deepEqual(parseVolumeFlag('./data:/data', '/work'), { source: '/work/data', target: '/data', readOnly: false });
  assert.deepEqual(parseVolumeFlag('/srv/x:/x:ro', '/work'), { source: '/srv/x', target: '/x', readOnly: true });
  assert.deepEqual(parseVolumeFlag('cache:/cache:rw', '/work'), { source: 'cache', target: '/cache', readOnly: false });
  usage(() => parseVolumeFlag('/only', '/work'));
  usage(() => parseVolumeFlag('a:relative', '/work'));
  usage(() => parseVolumeFlag('a:/b:rx', '/work'));
});

test('-p HOST:CTR[/proto]', () => {
  assert.deepEqual(parsePublishFlag('8080:80'), { hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  assert.deepEqual(parsePublishFlag('127.0.0.1:5353:53/udp'), { hostPort: 5353, containerPort: 53, protocol: 'udp' });
  usage(() => parsePublishFlag('80'));
  usage(() => parsePublishFlag('70000:80'));
});

test('cp operands and --index', () => {
  assert.deepEqual(parseCpOperand('web:/etc/hosts'), { service: 'web', path: '/etc/hosts' });
  assert.deepEqual(parseCpOperand('./a:b'), { local: './a:b' });
  assert.deepEqual(parseCpOperand('/abs/file'), { local: '/abs/file' });
  assert.equal(parseIndex('2'), 2);
  usage(() => parseIndex('0'));
});

test('exec and run take -T, --no-tty and Compose’s --no-TTY', async () => {
  const { buildProgram } = await import('../program.ts');
  const ctx = { stdout: { write: () => true, isTTY: true }, stderr: { write: () => true }, env: {}, cwd: '/' };
  for (const verb of ['exec', 'run']) {
    for (const flag of ['-T', '--no-tty', '--no-TTY']) {
      const program = buildProgram(ctx);
      const sub = program.commands.find((c) => c.name() === verb)!;
      sub.action(() => undefined);
      await program.parseAsync([verb, flag, 'web', 'true'], { from: 'user' });
      const opts = sub.opts<{ tty: boolean; TTY?: boolean }>();
      assert.ok(!opts.tty || opts.TTY === false, `${verb} ${flag}`);
    }
  }
});
