// The proxy's head scans alone, for callgrind: N response heads through a checkout's clientResponseHead (7 fields: the
// six of the echo replica's /bytes answer that bench/proxy-instructions.ts loads, plus x-replica) or N request heads through its
// prepareRequest (node's http.get fields: Host, Connection), each field a fresh string cut from a buffer as node's
// parser hands them over. Per head = (instr(N2) − instr(N1)) ÷ (N2 − N1) of two runs.
// Usage: valgrind --tool=callgrind node --max-semi-space-size=1 --import tsx bench/proxy-head-instructions.ts
//   CHECKOUT response|request N

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as RequestHead from '../mesh/proxy/request-head.ts';
import type * as ResponseHead from '../mesh/proxy/response-head.ts';
import { benchArgs } from './args.ts';

const usage = 'usage: node --import tsx bench/proxy-head-instructions.ts CHECKOUT response|request N';
const { positionals } = benchArgs(usage, {}, { positionals: 3 });
const [checkout, which, count] = positionals as [string, string, string];
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(checkout, 'mesh/proxy', file)).href)) as T;

const RESPONSE = ['x-served-by', 'host-abc', 'x-replica', 'echo#1', 'content-type', 'text/plain; charset=utf-8', 'content-length', '1024', 'Date', 'Fri, 04 Dec 2026 22:00:00 GMT', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'];
const REQUEST = ['Host', '127.0.0.1:40000', 'Connection', 'keep-alive'];
const fields = which === 'response' ? RESPONSE : REQUEST;
// node's own latin1 cut (what Buffer#toString('latin1') ends in), undeclared in @types/node.
const src = Buffer.from(`OK\n${fields.join('\n')}`, 'latin1') as Buffer & { latin1Slice(start: number, end: number): string };
const spans: [number, number][] = [];
let at = 3;
for (const f of fields) {
  spans.push([at, at + f.length]);
  at += f.length + 1;
}
const fresh = (): string[] => spans.map(([a, b]) => src.latin1Slice(a, b));

const n = Number(count);
let total = 0;
if (which === 'response') {
  const { clientResponseHead, newResponseFacts } = await load<typeof ResponseHead>('response-head.ts');
  const facts = newResponseFacts();
  for (let i = 0; i < n; i++) total += clientResponseHead(200, src.latin1Slice(0, 2), fresh(), facts).length;
} else {
  const { prepareRequest, newPreparedRequest } = await load<typeof RequestHead>('request-head.ts');
  const info = { clientIp: '127.0.0.1', trusted: false, proto: 'http' as const, xfcc: undefined, via: undefined };
  const out = newPreparedRequest();
  for (let i = 0; i < n; i++) {
    if (prepareRequest('GET', '/bytes/1024', fresh(), true, info, out) !== undefined) throw new Error('refused');
    total += out.head.length;
  }
}
console.log(`${which}: ${n} heads, ${total} bytes`);
