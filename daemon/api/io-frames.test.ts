import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, exitFrame, IoFrameDecoder, IoFrameType, MAX_IO_FRAME } from './io-frames.ts';

test('frames round-trip whole, byte by byte and several per chunk', () => {
  const wire = Buffer.concat([encodeFrame(IoFrameType.stdout, 'hello'), encodeFrame(IoFrameType.stdinEnd), exitFrame(3)]);
  const whole = new IoFrameDecoder().push(wire);
  assert.deepEqual(whole.map((f) => [f.type, f.data.toString()]), [[1, 'hello'], [6, ''], [3, '{"exitCode":3}']]);
  const slow = new IoFrameDecoder();
  const frames = [...wire].flatMap((byte) => slow.push(Buffer.from([byte])));
  assert.deepEqual(frames.map((f) => [f.type, f.data.toString()]), [[1, 'hello'], [6, ''], [3, '{"exitCode":3}']]);
  assert.equal(slow.leftover, 0);
});

test('keeps an unfinished frame until the rest arrives', () => {
  const d = new IoFrameDecoder();
  const wire = encodeFrame(IoFrameType.stderr, 'partial');
  assert.deepEqual(d.push(wire.subarray(0, 10)), []);
  assert.equal(d.leftover, 10);
  assert.equal(d.push(wire.subarray(10))[0]?.data.toString(), 'partial');
});

test('refuses what is not a cmesh frame, and oversized frames', () => {
  assert.throws(() => new IoFrameDecoder().push(Buffer.from('HTTP/1.1 200 OK\r\n')), /not a cmesh io frame/);
  const huge = Buffer.alloc(8);
  huge[0] = IoFrameType.stdin;
  huge.writeUInt32BE(MAX_IO_FRAME + 1, 4);
  assert.throws(() => new IoFrameDecoder().push(huge), /over/);
});
