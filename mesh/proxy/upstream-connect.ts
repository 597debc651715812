// Raw TCP connections to replicas for tunnels (WebSocket, TCP mode): pick, connect with a deadline, fail over.

import { type Socket, connect } from 'node:net';
import type { PickContext } from '../balancer/types.ts';
import type { AttemptOutcome, Upstream, UpstreamPool } from '../upstream-pool.ts';
import { type ProxyError, noHealthyReplica, upstreamFailure } from './error-responses.ts';

export interface Connected {
  upstream: Upstream;
  socket: Socket;
  /** Connect latency, reported to the pool when the tunnel ends (so in-flight accounting spans its life). */
  connectMs: number;
}

export interface ConnectOptions {
  service: string;
  pool: UpstreamPool;
  connectTimeoutMs: number;
  pick: PickContext;
  /** Replica ids already tried by the caller (a retried handshake); new failures are added. */
  tried: Set<string>;
  /** Bound on connection attempts (each to a replica not tried before). */
  maxAttempts: number;
  /** Checked between attempts: the client left, stop. */
  cancelled: () => boolean;
}

/**
 * Connects to a picked replica, re-picking (excluding failures) on refusal or timeout. Every failed attempt is
 * reported to the pool at once, so passive health can eject a dead replica before the next pick. Calls back once.
 */
export function connectUpstream(o: ConnectOptions, done: (err: ProxyError | undefined, c?: Connected) => void): void {
  o.pick.exclude = o.tried;
  let attempts = 0;
  let last: { id: string; outcome: AttemptOutcome; code: string | undefined } | undefined;
  const next = (): void => {
    if (o.cancelled()) {
      done({ status: 502, code: 'upstream-connect-failed', message: 'client went away' });
      return;
    }
    const up = o.pool.pick(o.pick);
    if (up === undefined) {
      done(noHealthyReplica(o.service, o.pool.snapshot()));
      return;
    }
    if (o.tried.has(up.id) || attempts >= o.maxAttempts) {
      const l = last ?? { id: up.id, outcome: 'connect-error', code: undefined };
      done(upstreamFailure(o.service, l.id, l.outcome, l.code, o.connectTimeoutMs));
      return;
    }
    attempts++;
    o.tried.add(up.id);
    o.pool.onStart(up);
    const t0 = performance.now();
    const socket = connect({ host: up.host, port: up.port, allowHalfOpen: true, noDelay: true });
    const fail = (outcome: AttemptOutcome, code: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      o.pool.onResult(up, performance.now() - t0, outcome);
      last = { id: up.id, outcome, code };
      next();
    };
    const onError = (err: NodeJS.ErrnoException): void => fail('connect-error', err.code);
    const timer = setTimeout(() => {
      socket.off('error', onError);
      socket.on('error', () => undefined);
      fail('timeout', 'ETIMEDOUT');
    }, o.connectTimeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      done(undefined, { upstream: up, socket, connectMs: performance.now() - t0 });
    });
  };
  next();
}
