// Which of an attempt's timeouts has passed at a sweep tick (the pool's sweep asks every tick, not every request):
// connect, a free connection in time, the response head by the request deadline, and a body that stopped flowing.

import type { MeshSpec } from '../../daemon/api/project.ts';
import { codedError } from './attempt-owner.ts';
import { BODY_TIMEOUT, CONNECT_TIMEOUT, HEADERS_TIMEOUT } from './retry.ts';
import type { UpstreamConnection } from './upstream-connection.ts';

/** The client stopped reading the response: it holds a replica connection hostage for no one (the client is cut). */
export const CLIENT_STALLED = 1;

/**
 * What failed by `now`, if anything: an error the attempt fails with, or CLIENT_STALLED. `conn` is the attempt's
 * connection (null while it waits for one), `responding` whether its response head went to the client, `deadline`
 * when the head must have arrived.
 */
export function overdue(
  conn: UpstreamConnection | null,
  responding: boolean,
  deadline: number,
  timeouts: MeshSpec['timeouts'],
  now: number,
): Error | typeof CLIENT_STALLED | undefined {
  if (conn === null || !conn.connected) {
    if (conn !== null && now - conn.connectStart >= timeouts.connectMs) {
      return codedError(`connect timed out after ${timeouts.connectMs}ms`, CONNECT_TIMEOUT);
    }
    if (now >= deadline) return codedError('no connection became free in time', CONNECT_TIMEOUT);
    return undefined;
  }
  if (!responding) return now >= deadline ? codedError('no response headers in time', HEADERS_TIMEOUT) : undefined;
  if (conn.paused) return now - conn.pausedAt >= timeouts.idleMs ? CLIENT_STALLED : undefined;
  return now - conn.lastRead >= timeouts.idleMs ? codedError(`no response data for ${timeouts.idleMs}ms`, BODY_TIMEOUT) : undefined;
}
