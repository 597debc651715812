// gRPC-style unary calls over ONE long-lived h2c session (node:http2, as @grpc/grpc-js would hold it), with bounded
// concurrent workers; each call records its replica, its grpc-status, and whether any response byte had arrived.

import http2, { type ClientHttp2Session } from 'node:http2';

export interface CallOutcome {
  ok: boolean;
  replica?: string;
  /** The response head (the first response byte) had arrived when the call ended. */
  responded: boolean;
  error?: string;
}

/** A gRPC message: compressed flag 0, big-endian length, payload. */
export function grpcFrame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

export function unaryCall(session: ClientHttp2Session, payload: string, timeoutMs = 10_000): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const frame = grpcFrame(payload);
    const s = session.request({ ':method': 'POST', ':path': '/echo.Echo/Say', 'content-type': 'application/grpc', te: 'trailers' });
    let replica: string | undefined;
    let responded = false;
    let status: string | undefined;
    const chunks: Buffer[] = [];
    const done = (o: CallOutcome): void => {
      clearTimeout(timer);
      resolve(o);
    };
    const timer = setTimeout(() => {
      s.close(http2.constants.NGHTTP2_CANCEL);
      done({ ok: false, responded, error: 'timeout' });
    }, timeoutMs);
    s.on('response', (h) => {
      responded = true;
      replica = String(h['x-replica'] ?? '');
      status = h['grpc-status'] === undefined ? undefined : String(h['grpc-status']);
    });
    s.on('trailers', (t) => {
      status = String(t['grpc-status'] ?? '');
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      const echoed = Buffer.concat(chunks).equals(frame);
      done({ ok: status === '0' && echoed, replica, responded, ...(status === '0' && echoed ? {} : { error: `grpc-status ${status}, echoed ${echoed}` }) });
    });
    s.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, responded, error: err.code ?? err.message }));
    s.end(frame);
  });
}

/** `workers` concurrent callers on one session until `maxCalls` or `maxMs` or `stop()`; bounded in count and time. */
export function callLoop(session: ClientHttp2Session, o: { workers: number; maxCalls: number; maxMs: number }) {
  const outcomes: CallOutcome[] = [];
  let stopped = false;
  let started = 0;
  const t0 = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (!stopped && started < o.maxCalls && performance.now() - t0 < o.maxMs) {
      started++;
      outcomes.push(await unaryCall(session, `w${w}-${started}`));
    }
  };
  const all = Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return {
    outcomes,
    stop: async (): Promise<CallOutcome[]> => {
      stopped = true;
      await all;
      return outcomes;
    },
    done: all.then(() => outcomes),
  };
}
