import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { test } from 'node:test';
import { CmeshError } from '../daemon/api/errors.ts';
import { encodeFrame, errorFrame, exitFrame, IoFrameDecoder, IoFrameType } from '../daemon/api/io-frames.ts';
import { runIoSession } from './io-session.ts';

/** The CLI's socket: what the session writes lands in `sent`, what the "daemon" pushes comes in. */
function fakeSocket() {
  const toCli = new PassThrough();
  const fromCli = new PassThrough();
  const socket = Duplex.from({ readable: toCli, writable: fromCli });
  const decoder = new IoFrameDecoder();
  const sent: { type: number; text: string }[] = [];
  fromCli.on('data', (c: Buffer) => sent.push(...decoder.push(c).map((f) => ({ type: f.type, text: f.data.toString() }))));
  return { socket, toCli, sent };
}

const capture = () => {
  const out = { text: '', write: (c: string | Buffer) => (out.text += c.toString()) };
  return out;
};

test('output frames reach stdout and stderr; the exit frame is the result; stdin and its EOF go out as frames', async () => {
  const { socket, toCli, sent } = fakeSocket();
  const stdout = capture();
  const stderr = capture();
  const stdin = new PassThrough();
  const signals = new EventEmitter();
  const done = runIoSession({ socket, stdin, stdout, stderr, tty: false, signals: signals as unknown as NodeJS.Process });
  stdin.end('typed\n');
  toCli.write(Buffer.concat([encodeFrame(IoFrameType.stdout, 'out'), encodeFrame(IoFrameType.stderr, 'err')]));
  await new Promise((r) => setImmediate(r));
  toCli.write(exitFrame(42));
  assert.equal(await done, 42);
  assert.equal(stdout.text, 'out');
  assert.equal(stderr.text, 'err');
  assert.deepEqual(sent, [{ type: IoFrameType.stdin, text: 'typed\n' }, { type: IoFrameType.stdinEnd, text: '' }]);
  assert.equal(signals.listenerCount('SIGINT'), 0, 'signal handlers removed');
});

test('a TTY sends the terminal size first and on every resize', async () => {
  const { socket, toCli, sent } = fakeSocket();
  const stdout = Object.assign(new EventEmitter(), capture(), { columns: 120, rows: 40 });
  const done = runIoSession({ socket, stdout, stderr: capture(), tty: true, signals: new EventEmitter() as unknown as NodeJS.Process });
  stdout.columns = 80;
  stdout.emit('resize');
  toCli.write(exitFrame(0));
  assert.equal(await done, 0);
  const sizes = sent.filter((f) => f.type === IoFrameType.resize).map((f) => JSON.parse(f.text));
  assert.deepEqual(sizes, [{ rows: 40, cols: 120 }, { rows: 40, cols: 80 }]);
  assert.equal(stdout.listenerCount('resize'), 0);
});

test('an error frame is thrown as its CmeshError; a close without an exit code is a protocol error', async () => {
  const a = fakeSocket();
  const failing = runIoSession({ socket: a.socket, stdout: capture(), stderr: capture(), tty: false, signals: new EventEmitter() as unknown as NodeJS.Process });
  a.toCli.write(errorFrame({ code: 'CMESH_E_ENGINE', message: 'boom' }));
  await assert.rejects(failing, (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_ENGINE');

  const b = fakeSocket();
  const cut = runIoSession({ socket: b.socket, stdout: capture(), stderr: capture(), tty: false, signals: new EventEmitter() as unknown as NodeJS.Process });
  b.socket.destroy();
  await assert.rejects(cut, (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_DAEMON_PROTOCOL');
});

test('Ctrl-C without a TTY ends the session with 130 and closes the connection', async () => {
  const { socket } = fakeSocket();
  const signals = new EventEmitter();
  const done = runIoSession({ socket, stdout: capture(), stderr: capture(), tty: false, signals: signals as unknown as NodeJS.Process });
  signals.emit('SIGINT');
  assert.equal(await done, 130);
  assert.equal(socket.destroyed, true);
});
