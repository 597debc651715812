import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LogLine } from '../api/engine.ts';
import { LineSplitter, LogLineDecoder, StreamDemuxer, splitTimestamp } from './log-demux.ts';

function frame(type: 0 | 1 | 2, payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

function chunks(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe('StreamDemuxer', () => {
  it('splits frames and keeps stdout/stderr apart', () => {
    const d = new StreamDemuxer();
    const frames = d.push(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, '')]));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.data.toString()]),
      [
        ['stdout', 'out\n'],
        ['stderr', 'err\n'],
        ['stdout', ''],
      ],
    );
    assert.equal(d.leftover, 0);
  });

  it('waits for a header or payload split across chunks', () => {
    const d = new StreamDemuxer();
    const bytes = frame(2, 'hello');
    assert.deepEqual(d.push(bytes.subarray(0, 3)), []);
    assert.deepEqual(d.push(bytes.subarray(3, 10)), []);
    assert.equal(d.leftover, 10);
    const out = d.push(bytes.subarray(10));
    assert.equal(out.length, 1);
    assert.equal(out[0]?.stream, 'stderr');
    assert.equal(out[0]?.data.toString(), 'hello');
  });

  it('falls back to raw stdout when the stream is not multiplexed', () => {
    const d = new StreamDemuxer();
    const out = [...d.push(Buffer.from('plain tty output\n')), ...d.push(Buffer.from('more'))];
    assert.equal(Buffer.concat(out.map((f) => f.data)).toString(), 'plain tty output\nmore');
    assert.ok(out.every((f) => f.stream === 'stdout'));
  });

  it('reassembles any chunking of any frame sequence (property)', () => {
    const frameArb = fc.record({ type: fc.constantFrom(1 as const, 2 as const), data: fc.uint8Array({ maxLength: 40 }) });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1 }), (fs, sizes) => {
        const bytes = Buffer.concat(fs.map((f) => frame(f.type, Buffer.from(f.data))));
        const d = new StreamDemuxer();
        const got = chunks(bytes, sizes).flatMap((c) => d.push(c));
        assert.deepEqual(
          got.map((f) => [f.stream, [...f.data]]),
          fs.map((f) => [f.type === 2 ? 'stderr' : 'stdout', [...f.data]]),
        );
      }),
    );
  });
});

describe('LineSplitter', () => {
  it('keeps a partial line until its newline or the end', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('a\nb'), ['a']);
    assert.deepEqual(s.push('c\r\nd'), ['bc']);
    assert.deepEqual(s.end(), ['d']);
    assert.deepEqual(s.end(), []);
  });

  it('decodes UTF-8 split inside a character', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('é世\n');
    const out = [...bytes].flatMap((b) => s.push(Buffer.from([b])));
    assert.deepEqual(out, ['é世']);
  });
});

describe('splitTimestamp', () => {
  it('parses RFC3339Nano and strips it', () => {
    assert.deepEqual(splitTimestamp('2024-05-01T12:00:00.123456789Z hello world'), {
      time: Date.UTC(2024, 4, 1, 12, 0, 0, 123),
      text: 'hello world',
    });
    assert.deepEqual(splitTimestamp('2024-05-01T12:00:00Z '), { time: Date.UTC(2024, 4, 1, 12), text: '' });
    assert.equal(splitTimestamp('2024-05-01T14:00:00.5+02:00 x').time, Date.UTC(2024, 4, 1, 12, 0, 0, 500));
  });

  it('leaves lines without a timestamp alone', () => {
    assert.deepEqual(splitTimestamp('no timestamp here'), { time: undefined, text: 'no timestamp here' });
  });
});

describe('LogLineDecoder', () => {
  const ts = (ms: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, 0, ms)).toISOString().replace('Z', '000000Z');

  it('demuxes, splits and timestamps lines for any chunking', () => {
    const bytes = Buffer.concat([
      frame(1, `${ts(1)} first\n`),
      frame(2, `${ts(2)} oops\n`),
      frame(1, `${ts(3)} a line split`),
      frame(1, ` across frames\n${ts(4)} last without newline`),
    ]);
    const expected: LogLine[] = [
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 1), text: 'first' },
      { stream: 'stderr', time: Date.UTC(2024, 0, 1, 0, 0, 0, 2), text: 'oops' },
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 3), text: 'a line split across frames' },
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 4), text: 'last without newline' },
    ];
    for (const sizes of [[1], [3, 5], [8], [9, 2], [1000]]) {
      const d = new LogLineDecoder({ multiplexed: true, timestamps: true });
      const got = [...chunks(bytes, sizes).flatMap((c) => d.push(c)), ...d.end()];
      assert.deepEqual(got, expected, String(sizes));
    }
  });

  it('treats TTY output as raw stdout and stamps receipt time without timestamps', () => {
    const d = new LogLineDecoder({ multiplexed: false, timestamps: false, now: () => 42 });
    assert.deepEqual([...d.push(Buffer.from('\u0001raw\nx')), ...d.end()], [
      { stream: 'stdout', time: 42, text: '\u0001raw' },
      { stream: 'stdout', time: 42, text: 'x' },
    ]);
  });
});
