// The proxy's per-request features alone, in instructions: N keep-alive GETs through a checkout's request-head rewrite,
// Exchange, HttpAttempt, response-head rewrite, ResponseWriter and request report — the real classes, with the sockets,
// the parser, the pool and the metrics replaced by stubs that do nothing (their costs are measured elsewhere:
// bench/proxy-pool-instructions.ts, bench/proxy-instructions.ts). Each response comes in one replica read (head and body).
// Usage (under callgrind; the difference of two N over their difference is the per-request cost, start-up cancels):
//   valgrind --tool=callgrind node --max-semi-space-size=1 --import tsx bench/proxy-exchange-instructions.ts CHECKOUT N

import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { Exchange as ExchangeClass } from '../mesh/proxy/http-exchange.ts';
import type * as RequestHead from '../mesh/proxy/request-head.ts';
import type * as ResponseHead from '../mesh/proxy/response-head.ts';
import type { ResponseWriter as WriterClass } from '../mesh/proxy/response-writer.ts';
import type { ClientSide, ExchangeView } from '../mesh/proxy/client-side.ts';
import type { UpstreamAttempt } from '../mesh/proxy/upstream-connection.ts';
import type { ProxyContext } from '../mesh/proxy/context.ts';
import { benchArgs } from './args.ts';

const { positionals } = benchArgs('usage: node --import tsx bench/proxy-exchange-instructions.ts CHECKOUT N', {}, { positionals: 2 });
const [checkout, n] = positionals as [string, string];
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(`${checkout}/mesh/proxy/${rel}`).href)) as T;
const { Exchange } = await load<{ Exchange: typeof ExchangeClass }>('http-exchange.ts');
const { prepareRequest, newPreparedRequest } = await load<typeof RequestHead>('request-head.ts');
const { clientResponseHead, newResponseFacts } = await load<typeof ResponseHead>('response-head.ts');
const { ResponseWriter } = await load<{ ResponseWriter: typeof WriterClass }>('response-writer.ts');

let written = 0;
// Strings are encoded as a socket's write does (latin1 bytes copied out, a cons string walked), buffers only counted.
// latin1Write: node's own encoder behind buf.write(s, o, 'latin1'), without the argument checks (not in @types/node).
const wire = Buffer.allocUnsafe(64 * 1024) as Buffer & { latin1Write(s: string, offset: number): number };
const write = (d: string | Buffer): boolean => {
  written += typeof d === 'string' ? wire.latin1Write(d, 0) : d.length;
  return true;
};
const socket = { write, writableNeedDrain: false } as unknown as Socket;
const up = { id: 'web-1', host: '127.0.0.1', port: 40001 };
let current: UpstreamAttempt | null = null;
const upConn = { connected: true, keepAliveMs: 0, broken: false, attempt: null, write, resume() {}, pause() {}, destroy() {} };
const replicaPool = {
  acquire(a: UpstreamAttempt) {
    current = a;
    a.attach(upConn as never);
  },
  release() {},
  cancelWaiting() {},
};
let counted = 0;
const ctx = {
  service: 'web',
  pool: { pick: () => up, onStart() {}, onResult() {}, snapshot: () => [] },
  mesh: { retries: 2, timeouts: { connectMs: 5000, requestMs: 15000, idleMs: 60000 } },
  clients: { get: () => replicaPool },
  budget: { requestStarted() {}, requestEnded() {} },
  stats: { requests: 0, active: 0, attempts: 0, retries: 0, failovers: 0, budgetExhausted: 0, errors: {} },
  onAttempt: undefined,
  countRequest: (_s: string, _u: string | undefined, _m: string, status: number, ms: number) => {
    counted += status + (ms > 0 ? 1 : 0);
  },
  onRequest: undefined,
  onAccessLog: undefined,
  draining: false,
} as unknown as ProxyContext;
const facts = newResponseFacts();
const out = new ResponseWriter(socket);
const conn = {
  ctx,
  clientIp: '127.0.0.1',
  clientCert: undefined,
  out,
  responseFacts: facts,
  responseHead(ex: ExchangeView, status: number, reason: string, headers: string[]) {
    out.stage(`${clientResponseHead(status, reason, headers, facts)}\r\n`);
    ex.status = status;
    ex.headSent = true;
    return false;
  },
  exchangeDone(ex: ExchangeView) {
    ex.closed();
  },
  sendError() {
    throw new Error('unexpected error answer');
  },
  sendAnswer() {},
  destroy() {},
  pauseBody() {},
  resumeBody() {},
} as unknown as ClientSide;
const info = { clientIp: '127.0.0.1', trusted: false, proto: 'http' as const, xfcc: undefined, via: undefined };
const request = newPreparedRequest();
const body = Buffer.from('hello from replica 1\n');
for (let i = 0; i < Number(n); i++) {
  // What llhttp hands over: fresh arrays of fresh strings for each head.
  const reqHeaders = ['Host', `localhost:${8080 + (i & 1)}`, 'User-Agent', 'bench', 'Accept', '*/*'];
  const resHeaders = ['Content-Type', 'text/plain', 'Content-Length', String(body.length), 'Date', 'Fri, 04 Dec 2026 16:30:00 GMT'];
  const refused = prepareRequest('GET', '/', reqHeaders, true, info, request);
  if (refused !== undefined) throw new Error(refused.message);
  const ex = new Exchange(conn, performance.now(), 'GET', '/', request, null, undefined);
  ex.start();
  const a = current!;
  a.responseHead(200, 'OK', resHeaders);
  a.responseBody(body);
  a.responseComplete();
  a.afterRead();
}
console.log(`${n} requests, ${written} bytes written, count sum ${counted}`);
