// The pure parts of pause/kill/port/top/images on the CLI side: formatting, and argument checks that never reach
// the daemon (the daemon side is daemon/project-verbs.test.ts, the real engine test/e2e/verbs.docker.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitCode } from '../../daemon/api/errors.ts';
import { type CliContext, runCli } from '../program.ts';
import { humanSize, shortId } from './images.ts';
import { formatTop } from './top.ts';

function capture(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    ctx: {
      stdout: {
        write: (s: string) => {
          out += s;
          return true;
        },
      },
      stderr: {
        write: (s: string) => {
          err += s;
          return true;
        },
      },
      env: { NO_COLOR: '1', CMESH_HOME: '/nonexistent/cmesh-verbs-test' },
      cwd: '/nonexistent',
    },
    out: () => out,
    err: () => err,
  };
}

test('images: short ids and Docker-style decimal sizes', () => {
  assert.equal(shortId('sha256:0123456789abcdef0123'), '0123456789ab');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(4_261_234), '4.26MB');
  assert.equal(humanSize(1_000_000), '1MB');
  assert.equal(humanSize(123_456_789_012), '123GB');
});

test('top: the replica name, then an aligned ps table per replica', () => {
  const text = formatTop([
    { service: 'web', replica: 1, name: 'p-web-1', container: 'c1', titles: ['PID', 'CMD'], processes: [['1', 'sleep 300']] },
    { service: 'web', replica: 2, name: 'p-web-2', container: 'c2', titles: ['PID', 'CMD'], processes: [['10', 'sh']] },
  ]);
  assert.equal(text, 'p-web-1\nPID   CMD\n1     sleep 300\n\np-web-2\nPID   CMD\n10    sh\n');
});

test('port and kill check their arguments before asking the daemon', async () => {
  for (const argv of [['port', 'web', '0'], ['port', 'web', 'http'], ['port', '--protocol', 'sctp', 'web', '80'], ['port', '--index', '0', 'web', '80'], ['port', 'web']]) {
    const io = capture();
    assert.equal(await runCli(argv, io.ctx), ExitCode.usage, `${argv.join(' ')}: ${io.err()}`);
    assert.equal(io.out(), '');
  }
  const help = capture();
  assert.equal(await runCli(['kill', '--help'], help.ctx), ExitCode.ok);
  assert.match(help.out(), /-s, --signal <signal>[\s\S]*\(default: "SIGKILL"\)/);
});
