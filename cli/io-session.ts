// The CLI's end of an exec/attach session: the user's stdin (raw on a TTY) and terminal size out as io frames, the
// process's stdout/stderr in, and its exit code as the result.

import type { Duplex } from 'node:stream';
import { CmeshError, type SerializedError } from '../daemon/api/errors.ts';
import { encodeFrame, IoFrameDecoder, IoFrameType } from '../daemon/api/io-frames.ts';
import type { OutStream } from './output.ts';

/** What the session reads from: process.stdin, or a test's stream. */
export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

/** A terminal that reports its size (process.stdout); tests pass plain streams without one. */
export interface SizedStream extends OutStream {
  columns?: number;
  rows?: number;
  on?: (event: 'resize', listener: () => void) => unknown;
  off?: (event: 'resize', listener: () => void) => unknown;
}

export interface IoSessionOptions {
  socket: Duplex;
  stdin?: InStream;
  stdout: SizedStream;
  stderr: OutStream;
  /** The process has a TTY: the user's terminal goes raw (Ctrl-C becomes a byte for the process) and resizes follow. */
  tty: boolean;
  /** Interrupts (SIGINT/SIGTERM) without a TTY end the session; the daemon then stops a one-off. Default: process. */
  signals?: Pick<NodeJS.Process, 'once' | 'off'>;
}

/** Output is bytes (a binary `cat`, a TTY's escape codes): process streams take them as they are. */
function bytesTo(stream: OutStream, data: Buffer): void {
  (stream as unknown as { write(chunk: Uint8Array): unknown }).write(data);
}

/** 128 + SIGINT, what a shell reports for a command interrupted by Ctrl-C. */
const INTERRUPTED = 130;

/** Resolves with the process's exit code; throws the daemon's error frame as its CmeshError. */
export function runIoSession(o: IoSessionOptions): Promise<number> {
  const { socket } = o;
  const send = (type: IoFrameType, data?: Buffer | string): void => {
    if (!socket.destroyed && socket.writable) socket.write(encodeFrame(type, data));
  };
  const raw = o.tty && o.stdin?.isTTY === true && typeof o.stdin.setRawMode === 'function';
  const onInput = (chunk: Buffer | string): void => send(IoFrameType.stdin, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const onInputEnd = (): void => send(IoFrameType.stdinEnd);
  const sendSize = (): void => {
    if (o.stdout.columns && o.stdout.rows) send(IoFrameType.resize, JSON.stringify({ rows: o.stdout.rows, cols: o.stdout.columns }));
  };
  const signals = o.signals ?? process;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      cleanup();
      fn();
    };
    const onSignal = (): void => finish(() => {
      socket.destroy();
      resolve(INTERRUPTED);
    });
    function cleanup(): void {
      o.stdin?.off('data', onInput);
      o.stdin?.off('end', onInputEnd);
      o.stdin?.pause();
      if (raw) o.stdin?.setRawMode?.(false);
      o.stdout.off?.('resize', sendSize);
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    }
    const decoder = new IoFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === IoFrameType.stdout) bytesTo(o.stdout, frame.data);
          else if (frame.type === IoFrameType.stderr) bytesTo(o.stderr, frame.data);
          else if (frame.type === IoFrameType.exit) {
            const { exitCode } = JSON.parse(frame.data.toString()) as { exitCode: number };
            finish(() => resolve(exitCode));
          } else if (frame.type === IoFrameType.error) {
            const error = JSON.parse(frame.data.toString()) as SerializedError;
            finish(() => reject(CmeshError.fromJSON(error)));
          }
        }
      } catch (err) {
        finish(() => reject(new CmeshError('CMESH_E_DAEMON_PROTOCOL', `bad io frame from the daemon: ${(err as Error).message}`)));
      }
    });
    socket.once('close', () =>
      finish(() => reject(new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'the daemon closed the session without an exit code', { hint: 'see `cmesh daemon logs`' }))),
    );
    socket.on('error', () => undefined);
    if (raw) o.stdin?.setRawMode?.(true);
    if (o.tty) {
      sendSize();
      o.stdout.on?.('resize', sendSize);
    } else {
      signals.once('SIGINT', onSignal);
      signals.once('SIGTERM', onSignal);
    }
    if (o.stdin) {
      o.stdin.on('data', onInput);
      o.stdin.once('end', onInputEnd);
      o.stdin.resume();
    } else {
      onInputEnd();
    }
  });
}
