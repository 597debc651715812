// Pipes an engine IoSession to an upgraded control connection as io frames (api/io-frames.ts): output out with
// backpressure, stdin/EOF/resize in, and the exit code (or a typed error) as the last frame.

import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import type { IoSession } from './api/engine-io.ts';
import { encodeFrame, errorFrame, exitFrame, type IoFrame, IoFrameDecoder, IoFrameType } from './api/io-frames.ts';
import { toSerialized } from './routes/http.ts';

export interface BridgeOutcome {
  /** The process's exit code, when it ended while the client was still there. */
  exitCode?: number;
  /** The client closed the connection (Ctrl-C, killed CLI) before the process ended. */
  clientGone: boolean;
}

function readResize(data: Buffer): { rows: number; cols: number } | undefined {
  try {
    const { rows, cols } = JSON.parse(data.toString()) as { rows?: unknown; cols?: unknown };
    if (Number.isInteger(rows) && Number.isInteger(cols) && (rows as number) > 0 && (cols as number) > 0) {
      return { rows: rows as number, cols: cols as number };
    }
  } catch {
    // Not a size: ignored, a resize is only a courtesy.
  }
  return undefined;
}

export interface BridgeHooks {
  /** Runs once the output is being read (a one-off is started here, so none of its output is lost). */
  afterStart?: () => Promise<void>;
  /** Runs after the process ended and before its exit code is sent (`run --rm` removes the container first). */
  beforeExit?: () => Promise<void>;
}

/** Runs until the process ends or the client leaves; never throws (a failure becomes the error frame). */
export async function bridgeSession(socket: Duplex, session: IoSession, hooks: BridgeHooks = {}): Promise<BridgeOutcome> {
  let clientGone = false;
  // The client never half-closes (stdin's EOF is a frame), so its FIN means it is gone, like a full close.
  const gone = new Promise<void>((resolve) => {
    const leave = (): void => {
      clientGone = true;
      resolve();
    };
    socket.once('end', leave);
    socket.once('close', leave);
  });
  const decoder = new IoFrameDecoder();
  let lastSize: { rows: number; cols: number } | undefined;
  socket.on('data', (chunk: Buffer) => {
    let frames: IoFrame[];
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.type === IoFrameType.stdin) session.write(frame.data);
      else if (frame.type === IoFrameType.stdinEnd) session.endInput();
      else if (frame.type === IoFrameType.resize) {
        const size = readResize(frame.data);
        if (size) {
          lastSize = size;
          session.resize(size).catch(() => undefined);
        }
      }
    }
  });
  socket.on('error', () => undefined);
  const pump = async (): Promise<number> => {
    await hooks.afterStart?.();
    // The engine refuses to resize a container that is not running yet: the size the client sent first applies now.
    if (hooks.afterStart && lastSize) session.resize(lastSize).catch(() => undefined);
    for await (const chunk of session.output) {
      const type = chunk.stream === 'stderr' ? IoFrameType.stderr : IoFrameType.stdout;
      if (!socket.write(encodeFrame(type, chunk.data)) && !clientGone) await Promise.race([once(socket, 'drain'), gone]);
      if (clientGone) break;
    }
    return session.exitCode();
  };
  try {
    const exitCode = await Promise.race([pump(), gone.then(() => undefined)]);
    if (exitCode === undefined || clientGone) return { clientGone: true };
    await hooks.beforeExit?.();
    socket.end(exitFrame(exitCode));
    return { exitCode, clientGone: false };
  } catch (err) {
    if (!clientGone) socket.end(errorFrame(toSerialized(err)));
    return { clientGone };
  } finally {
    session.close();
  }
}
