// Upstream h2c (`x-cmesh.protocol: h2c|grpc`): one long-lived HTTP/2 session per replica, every client stream a new
// stream on it, so calls are balanced per request however few client connections there are. A session that gets
// GOAWAY takes no new streams (the next call opens a fresh one) and finishes the ones it has; streams the replica
// refused or never processed (REFUSED_STREAM, above GOAWAY's last stream id) count as not sent: safe to replay.

import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { codedError } from '../proxy/attempt-owner.ts';
import { CONNECT_TIMEOUT } from '../proxy/retry.ts';
import type { Upstream } from '../upstream-pool.ts';
import { type CallRequest, type CallSink, type Dialer, type UpstreamCall, fieldList, h2ResponseHeaders } from './call.ts';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;

interface Session {
  session: ClientHttp2Session;
  connected: boolean;
  /** Set by the replica's GOAWAY: streams above it were not processed. */
  lastStreamId: number | undefined;
}

export class H2cSessions implements Dialer {
  readonly #sessions = new Map<string, Session>();

  constructor(readonly connectTimeoutMs: number) {}

  /** Open sessions (one per replica at most), for tests and the dashboard. */
  get size(): number {
    return this.#sessions.size;
  }

  dial(up: Upstream, req: CallRequest, sink: CallSink): UpstreamCall {
    const s = this.#session(up);
    let done = false;
    let responding = false;
    let stream: ClientHttp2Stream | undefined;
    let trailers: OutgoingHttpHeaders | undefined;
    const fail = (code: string | undefined, timeout = false): void => {
      if (done) return;
      done = true;
      const id = stream?.id;
      const unprocessed = !s.connected || stream?.rstCode === NGHTTP2_REFUSED_STREAM || (id !== undefined && s.lastStreamId !== undefined && id > s.lastStreamId) || id === undefined;
      const phase = responding ? 'responding' : unprocessed ? 'not-sent' : 'sent';
      sink.failed(phase, timeout ? 'timeout' : s.connected ? 'reset' : 'connect-error', code);
    };
    try {
      stream = s.session.request(h2cRequestHeaders(req), { endStream: req.noBody });
    } catch (err) {
      // The session closed between the pick and the request (GOAWAY just arrived): nothing went out.
      queueMicrotask(() => fail((err as NodeJS.ErrnoException).code));
      const cancel = (): void => {
        done = true;
      };
      return { write() {}, end() {}, pause() {}, resume() {}, cancel };
    }
    const st = stream;
    st.on('response', (h) => {
      if (done) return;
      responding = true;
      sink.response(Number(h[':status'] ?? 502), h2ResponseHeaders(fieldList(h)));
    });
    st.on('trailers', (t) => {
      trailers = h2ResponseHeaders(fieldList(t));
    });
    st.on('data', (chunk: Buffer) => {
      if (!done && !sink.data(chunk)) st.pause();
    });
    st.on('end', () => {
      if (done || !responding) return;
      done = true;
      sink.end(trailers);
    });
    st.on('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ERR_HTTP2_STREAM_ERROR' ? `RST_STREAM ${st.rstCode}` : err.code));
    st.on('close', () => {
      if (!done) fail(st.rstCode === undefined || st.rstCode === 0 ? 'UPSTREAM_CLOSED' : `RST_STREAM ${st.rstCode}`);
    });
    return {
      write: (chunk) => {
        if (!st.destroyed) st.write(chunk);
      },
      end: () => {
        if (!st.destroyed && !st.writableEnded) st.end();
      },
      pause: () => st.pause(),
      resume: () => st.resume(),
      cancel: () => {
        done = true;
        if (!st.destroyed) st.close(NGHTTP2_CANCEL);
      },
    };
  }

  #session(up: Upstream): Session {
    const key = `${up.id}@${up.host}:${up.port}`;
    const had = this.#sessions.get(key);
    if (had !== undefined && !had.session.closed && !had.session.destroyed) return had;
    const session = http2.connect(`http://${up.host}:${up.port}`);
    const s: Session = { session, connected: false, lastStreamId: undefined };
    this.#sessions.set(key, s);
    const forget = (): void => {
      if (this.#sessions.get(key) === s) this.#sessions.delete(key);
    };
    const timer = setTimeout(() => session.destroy(codedError(`no h2c session within ${this.connectTimeoutMs}ms`, CONNECT_TIMEOUT)), this.connectTimeoutMs);
    session.once('connect', () => {
      s.connected = true;
      clearTimeout(timer);
    });
    session.on('goaway', (_code: number, lastStreamId: number) => {
      s.lastStreamId = lastStreamId;
      forget();
    });
    // Its streams hear the error themselves; a session error must not become an uncaught exception.
    session.on('error', forget);
    session.once('close', () => {
      clearTimeout(timer);
      forget();
    });
    session.unref();
    return s;
  }

  closeUpstream(id: string): void {
    for (const [key, s] of this.#sessions) {
      if (!key.startsWith(`${id}@`)) continue;
      this.#sessions.delete(key);
      // GOAWAY from our side: streams running there finish, no new ones start.
      s.session.close();
    }
  }

  close(force: boolean): void {
    for (const s of this.#sessions.values()) force ? s.session.destroy() : s.session.close();
    this.#sessions.clear();
  }
}

/** The request as h2c headers: pseudo-headers from the request line, `host` as `:authority`. */
function h2cRequestHeaders(req: CallRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': 'http' };
  const raw = req.headers;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'host') {
      out[':authority'] = value;
      continue;
    }
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [String(had), value];
  }
  if (req.teTrailers) out.te = 'trailers';
  return out;
}
