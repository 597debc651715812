// The proxy's head scans alone, for callgrind: N response heads through a checkout's clientResponseHead (7 fields: the
// six of the echo replica's /bytes answer that bench/proxy-instructions.ts loads, plus x-replica) or N request heads through its
// prepareRequest (node's http.get fields: Host, Connection), each field a fresh string cut from a buffer as node's
// parser hands them over. Per head = (instr(N2) − instr(N1)) ÷ (N2 − N1) of two runs.
// A checkout that keeps the last head (response-head.ts's memoResponseHead; prepareRequest's memo in its `out`) is
// measured through it, as the proxy runs it: heads all the same hit it; `--vary` adds a last field, x-request-id, whose
// value differs from the one before in every head, so every head misses after comparing every field.
// Usage: valgrind --tool=callgrind node --max-semi-space-size=1 --import tsx bench/proxy-head-instructions.ts
//   CHECKOUT response|request N [--vary]

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as RequestHead from '../mesh/proxy/request-head.ts';
import type * as ResponseHead from '../mesh/proxy/response-head.ts';
import { benchArgs } from './args.ts';

const usage = 'usage: node --import tsx bench/proxy-head-instructions.ts CHECKOUT response|request N [--vary]';
const { vary, positionals } = benchArgs(usage, { vary: { type: 'boolean' } }, { positionals: 3 });
const [checkout, which, count] = positionals as [string, string, string];
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(checkout, 'mesh/proxy', file)).href)) as T;

const RESPONSE = ['x-served-by', 'host-abc', 'x-replica', 'echo#1', 'content-type', 'text/plain; charset=utf-8', 'content-length', '1024', 'Date', 'Fri, 04 Dec 2026 22:00:00 GMT', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'];
const REQUEST = ['Host', '127.0.0.1:40000', 'Connection', 'keep-alive'];
// With --vary, a last field whose value changes from one head to the next (the only field the proxy passes as it is).
const fields = [...(which === 'response' ? RESPONSE : REQUEST), ...(vary === true ? ['x-request-id', 'r-00000000'] : [])];
// node's own latin1 cut (what Buffer#toString('latin1') ends in), undeclared in @types/node.
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };
const source = (last: string): Latin1 => Buffer.from(`OK\n${[...fields.slice(0, -1), last].join('\n')}`, 'latin1') as Latin1;
// Two heads that differ in their last value only (same length: the same spans cut both).
const lastValue = fields[fields.length - 1]!;
const sources = [source(lastValue), source(lastValue.slice(0, -1) + String.fromCharCode(lastValue.charCodeAt(lastValue.length - 1) ^ 1))];
const src = sources[0]!;
const spans: [number, number][] = [];
let at = 3;
for (const f of fields) {
  spans.push([at, at + f.length]);
  at += f.length + 1;
}
const fresh = (i: number): string[] => {
  const from = sources[vary === true ? i & 1 : 0]!;
  return spans.map(([a, b]) => from.latin1Slice(a, b));
};

const n = Number(count);
let total = 0;
if (which === 'response') {
  const mod = await load<Partial<typeof ResponseHead> & Pick<typeof ResponseHead, 'clientResponseHead' | 'newResponseFacts'>>('response-head.ts');
  const facts = mod.newResponseFacts();
  const { memoResponseHead, newHeadMemo } = mod;
  if (memoResponseHead !== undefined && newHeadMemo !== undefined) {
    const memo = newHeadMemo();
    for (let i = 0; i < n; i++) total += memoResponseHead(200, src.latin1Slice(0, 2), fresh(i), facts, memo).length;
    console.log(`through the memo: ${memo.builds} heads built`);
  } else {
    for (let i = 0; i < n; i++) total += mod.clientResponseHead(200, src.latin1Slice(0, 2), fresh(i), facts).length;
  }
} else {
  const { prepareRequest, newPreparedRequest } = await load<typeof RequestHead>('request-head.ts');
  const info = { clientIp: '127.0.0.1', trusted: false, proto: 'http' as const, xfcc: undefined, via: undefined };
  const out = newPreparedRequest();
  for (let i = 0; i < n; i++) {
    if (prepareRequest('GET', '/bytes/1024', fresh(i), true, info, out) !== undefined) throw new Error('refused');
    total += out.head.length;
  }
  const built = (out as { builds?: number }).builds;
  if (built !== undefined) console.log(`through the memo: ${built} heads built`);
}
console.log(`${which}: ${n} heads, ${total} bytes`);
