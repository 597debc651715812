// Two sockets joined both ways: backpressure via pipe, half-close passed through, errors and idleness end both.

import type { Socket } from 'node:net';
import { countFreshBytes } from './young-gc-nudge.ts';

export interface TunnelEnd {
  /** The first error either side raised, if any (a reset, a write after the peer vanished...). */
  error?: Error;
  /** Which socket raised `error`. */
  errorFrom?: 'client' | 'upstream';
  /** True when the idle timeout ended the tunnel. */
  idle: boolean;
  bytesFromClient: number;
  bytesFromUpstream: number;
}

/**
 * Both sockets must allow half-open: a client that shuts its write side (FIN) still receives the rest of the
 * upstream's answer, and vice versa. `onEnd` runs once, after both sockets are closed.
 */
const onRead = (chunk: Buffer): void => countFreshBytes(chunk.length);

export function tunnel(client: Socket, upstream: Socket, idleMs: number, onEnd: (end: TunnelEnd) => void): void {
  let closed = 0;
  let error: Error | undefined;
  let errorFrom: 'client' | 'upstream' | undefined;
  let idle = false;
  const fromClient0 = client.bytesRead;
  const fromUpstream0 = upstream.bytesRead;
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const onError = (from: 'client' | 'upstream', err: Error): void => {
    if (error === undefined) {
      error = err;
      errorFrom = from;
    }
    destroyBoth();
  };
  const onTimeout = (): void => {
    idle = true;
    destroyBoth();
  };
  const onClose = (hadError: boolean): void => {
    // A side that vanished without a clean FIN exchange takes the other with it; a clean close means both
    // directions already ended through the pipes.
    if (hadError) destroyBoth();
    if (++closed < 2) return;
    onEnd({
      ...(error === undefined ? {} : { error, errorFrom }),
      idle,
      bytesFromClient: client.bytesRead - fromClient0,
      bytesFromUpstream: upstream.bytesRead - fromUpstream0,
    });
  };
  client.on('error', (err) => onError('client', err));
  upstream.on('error', (err) => onError('upstream', err));
  for (const s of [client, upstream]) {
    s.once('close', onClose);
    if (idleMs > 0) {
      s.setTimeout(idleMs);
      s.on('timeout', onTimeout);
    }
  }
  // Every read is a fresh Buffer, as a parsed body chunk is: counted for the minor-GC nudge (young-gc-nudge.ts).
  client.on('data', onRead);
  upstream.on('data', onRead);
  client.pipe(upstream);
  upstream.pipe(client);
}
