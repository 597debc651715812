// The byte protocol of an upgraded exec/attach connection: Docker's 8-byte stream header (type, 3 zero bytes, length
// big-endian) with cmesh's own types for stdin EOF, resize and the outcome, so one connection carries everything.

import type { SerializedError } from './errors.ts';

export const IoFrameType = {
  /** Client → daemon: bytes for the process's stdin. */
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** Daemon → client, last: JSON {exitCode}. */
  exit: 3,
  /** Daemon → client, last: JSON SerializedError. */
  error: 4,
  /** Client → daemon: JSON {rows, cols} of the user's terminal. */
  resize: 5,
  /** Client → daemon: stdin reached EOF. */
  stdinEnd: 6,
} as const;
export type IoFrameType = (typeof IoFrameType)[keyof typeof IoFrameType];

export interface IoFrame {
  type: IoFrameType;
  data: Buffer;
}

/** The `Upgrade:` token both sides use. */
export const IO_UPGRADE = 'cmesh-io';
const HEADER = 8;
/** A frame larger than this is a protocol error, not a reason to buffer without bound. */
export const MAX_IO_FRAME = 1024 * 1024;

export function encodeFrame(type: IoFrameType, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const head = Buffer.alloc(HEADER);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

export const exitFrame = (exitCode: number): Buffer => encodeFrame(IoFrameType.exit, JSON.stringify({ exitCode }));
export const errorFrame = (error: SerializedError): Buffer => encodeFrame(IoFrameType.error, JSON.stringify(error));

/** Splits a byte stream into frames; throws on an unknown type or an oversized frame (the peer is not cmesh). */
export class IoFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): IoFrame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: IoFrame[] = [];
    while (this.#pending.length >= HEADER) {
      const type = this.#pending[0]!;
      if (type > IoFrameType.stdinEnd || this.#pending[1] !== 0 || this.#pending[2] !== 0 || this.#pending[3] !== 0) {
        throw new Error(`not a cmesh io frame (type byte ${type})`);
      }
      const size = this.#pending.readUInt32BE(4);
      if (size > MAX_IO_FRAME) throw new Error(`io frame of ${size} bytes is over ${MAX_IO_FRAME}`);
      if (this.#pending.length < HEADER + size) break;
      frames.push({ type: type as IoFrameType, data: this.#pending.subarray(HEADER, HEADER + size) });
      this.#pending = this.#pending.subarray(HEADER + size);
    }
    return frames;
  }

  /** Bytes of an unfinished frame. */
  get leftover(): number {
    return this.#pending.length;
  }
}
