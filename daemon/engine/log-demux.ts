// Turns the engine's log/attach byte stream (8-byte-header multiplexed, or raw for TTY) into timestamped lines.

import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../api/engine.ts';

export type StreamName = 'stdout' | 'stderr';

export interface Frame {
  stream: StreamName;
  data: Buffer;
}

const HEADER = 8;

/**
 * Demultiplexes Docker's stream format: [type(1) 0 0 0 size(4, big-endian)] + payload. Frames may be split anywhere
 * across chunks (even inside the header). A header with an unknown type means the stream is not multiplexed after
 * all (a TTY container); from then on everything passes through as stdout, like the docker CLI does.
 */
export class StreamDemuxer {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #raw = false;

  push(chunk: Buffer): Frame[] {
    if (this.#raw) return chunk.length > 0 ? [{ stream: 'stdout', data: chunk }] : [];
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const frames: Frame[] = [];
    while (this.#pendingBytes >= HEADER) {
      const head = this.#peek(HEADER);
      const type = head[0];
      if ((type !== 0 && type !== 1 && type !== 2) || head[1] !== 0 || head[2] !== 0 || head[3] !== 0) {
        this.#raw = true;
        const rest = this.#take(this.#pendingBytes);
        if (rest.length > 0) frames.push({ stream: 'stdout', data: rest });
        return frames;
      }
      const size = head.readUInt32BE(4);
      if (this.#pendingBytes < HEADER + size) break;
      this.#take(HEADER);
      const data = this.#take(size);
      // Type 0 (stdin) only appears when a TTY-less exec echoes input; treat it as stdout.
      frames.push({ stream: type === 2 ? 'stderr' : 'stdout', data });
    }
    return frames;
  }

  /** Bytes of an unfinished frame left at the end of the stream. */
  get leftover(): number {
    return this.#pendingBytes;
  }

  #peek(n: number): Buffer {
    const first = this.#pending[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.#pending);
    this.#pending = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Buffer {
    const joined = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    return out;
  }
}

/** Splits decoded text into lines, keeping a partial line until its newline arrives or the stream ends. */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  push(data: Buffer | string): string[] {
    const text = this.#partial + (typeof data === 'string' ? data : this.#decoder.write(data));
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    return parts.map(stripCr);
  }

  end(): string[] {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    return rest === '' ? [] : [stripCr(rest)];
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

// RFC3339Nano as the engine writes it with timestamps=true: 2024-05-01T12:00:00.123456789Z (or an offset).
const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) ?/;

/** Parses and strips the engine's timestamp prefix; `time` is undefined when the line has none. */
export function splitTimestamp(line: string): { time: number | undefined; text: string } {
  const m = TS_RE.exec(line);
  if (!m) return { time: undefined, text: line };
  const millis = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const time = Date.parse(`${m[1]}.${millis}${m[3]}`);
  if (Number.isNaN(time)) return { time: undefined, text: line };
  return { time, text: line.slice(m[0].length) };
}

export interface LogDecoderOptions {
  /** False for TTY containers: their stream is raw stdout. */
  multiplexed: boolean;
  /** The engine was asked for timestamps: strip and parse the prefix. */
  timestamps: boolean;
  now?: () => number;
}

/** Full pipeline: bytes → frames → per-stream lines → LogLine. */
export class LogLineDecoder {
  readonly #demux = new StreamDemuxer();
  readonly #lines: Record<StreamName, LineSplitter> = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  readonly #opts: LogDecoderOptions;

  constructor(opts: LogDecoderOptions) {
    this.#opts = opts;
  }

  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = [];
    const frames: Frame[] = this.#opts.multiplexed ? this.#demux.push(chunk) : [{ stream: 'stdout', data: chunk }];
    for (const frame of frames) {
      for (const line of this.#lines[frame.stream].push(frame.data)) out.push(this.#line(frame.stream, line));
    }
    return out;
  }

  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const line of this.#lines[stream].end()) out.push(this.#line(stream, line));
    }
    return out;
  }

  #line(stream: StreamName, raw: string): LogLine {
    const now = this.#opts.now ?? Date.now;
    if (!this.#opts.timestamps) return { stream, time: now(), text: raw };
    const { time, text } = splitTimestamp(raw);
    return { stream, time: time ?? now(), text };
  }
}
