// How proxy sockets are read: node's parser consuming the socket handle (fast), or 'data' events (the fallback).

import type { ParserCheck } from './llhttp-contract.ts';

/**
 * How a ParsedSocket's bytes reach the parser: `consume`, the parser reads the socket's handle itself (no 'data'
 * events, one native call per read: the fast path); `data`, 'data' events feed `parser.execute` (what node:http did
 * before consume; slower, same framing and checks).
 */
export type ReadPath = 'consume' | 'data';

/**
 * Chooses the read path of new proxies: `consume` unless the load-time check found the consume internals broken, or
 * CMESH_PROXY_PARSER=fallback asks for `data`. The reason for a fallback is logged once, by the first caller that
 * passes a log (the daemon's), so the daemon log says it once however many proxies it opens.
 */
export class ReadPathChooser {
  readonly fallbackReason: string | undefined;
  #told = false;

  constructor(check: ParserCheck, env: string | undefined) {
    this.fallbackReason = env === 'fallback' ? 'forced by CMESH_PROXY_PARSER=fallback' : check.noConsume;
  }

  choose(log?: (line: string) => void): ReadPath {
    const why = this.fallbackReason;
    if (why === undefined) return 'consume';
    if (!this.#told && log !== undefined) {
      this.#told = true;
      log(`proxy: node's HTTP parser will not consume sockets (${why}); client and replica sockets are parsed from 'data' events instead (correct, slower)`);
    }
    return 'data';
  }
}
