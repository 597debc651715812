// An HTTP/2 stream forwarded to an HTTP/1.1 replica: node's http client over one keep-alive agent per replica.
// Pseudo-headers become the request line and Host; the response's connection-specific fields are dropped, and
// trailers of a chunked response are passed on as HTTP/2 trailers.

import http from 'node:http';
import type { Socket } from 'node:net';
import { codedError } from '../proxy/attempt-owner.ts';
import { CONNECT_TIMEOUT, classifyError } from '../proxy/retry.ts';
import type { Upstream } from '../upstream-pool.ts';
import { type CallRequest, type CallSink, type Dialer, type UpstreamCall, h2ResponseHeaders } from './call.ts';

export class H1Dialer implements Dialer {
  readonly #agents = new Map<string, http.Agent>();

  constructor(
    readonly connectTimeoutMs: number,
    readonly socketsPerReplica = 64,
  ) {}

  dial(up: Upstream, req: CallRequest, sink: CallSink): UpstreamCall {
    let sent = false;
    let responding = false;
    let done = false;
    const fail = (err: unknown): void => {
      if (done) return;
      done = true;
      const f = classifyError(err, sent, responding);
      sink.failed(f.phase, f.outcome === 'http-5xx' || f.outcome === 'ok' ? 'reset' : f.outcome, f.code);
    };
    const r = http.request({ host: up.host, port: up.port, method: req.method, path: req.path, headers: req.headers, agent: this.#agent(up), setHost: false });
    r.on('socket', (socket: Socket) => {
      if (!socket.connecting) {
        sent = true;
        return;
      }
      const timer = setTimeout(() => r.destroy(codedError(`no connection within ${this.connectTimeoutMs}ms`, CONNECT_TIMEOUT)), this.connectTimeoutMs);
      socket.once('connect', () => {
        sent = true;
        clearTimeout(timer);
      });
      socket.once('close', () => clearTimeout(timer));
    });
    r.on('error', fail);
    let res: http.IncomingMessage | undefined;
    r.on('response', (m: http.IncomingMessage) => {
      res = m;
      responding = true;
      sink.response(m.statusCode ?? 502, h2ResponseHeaders(m.rawHeaders));
      m.on('data', (chunk: Buffer) => {
        if (!done && !sink.data(chunk)) m.pause();
      });
      m.on('end', () => {
        if (done) return;
        done = true;
        sink.end(m.rawTrailers.length > 0 ? h2ResponseHeaders(m.rawTrailers) : undefined);
      });
      m.on('aborted', () => fail(codedError('replica closed the connection mid-response', 'ECONNRESET')));
      m.on('error', fail);
    });
    if (req.noBody) r.end();
    return {
      write: (chunk) => {
        r.write(chunk);
      },
      end: () => {
        r.end();
      },
      pause: () => res?.pause(),
      resume: () => res?.resume(),
      cancel: () => {
        done = true;
        r.destroy();
      },
    };
  }

  #agent(up: Upstream): http.Agent {
    const key = `${up.id}@${up.host}:${up.port}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      agent = new http.Agent({ keepAlive: true, maxSockets: this.socketsPerReplica, timeout: 4000 });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  closeUpstream(id: string): void {
    for (const [key, agent] of this.#agents) {
      if (!key.startsWith(`${id}@`)) continue;
      this.#agents.delete(key);
      retire(agent);
    }
  }

  close(force: boolean): void {
    for (const agent of this.#agents.values()) force ? agent.destroy() : retire(agent);
    this.#agents.clear();
  }
}

/** Idle sockets close now, busy ones when their response is done (no keep-alive from here on). */
function retire(agent: http.Agent): void {
  (agent as http.Agent & { keepAlive: boolean }).keepAlive = false;
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
}
