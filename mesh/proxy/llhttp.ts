// node's own HTTP/1.1 parser (llhttp, strict mode) as the proxy drives it directly, without node:http around it.
// `_http_common` is a public-but-undocumented builtin; node:http itself creates its parsers from it the same way.

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** Callback arguments of kOnHeadersComplete, in llhttp-binding order. */
export type OnHeadersComplete = (
  this: Parser,
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

/** The native parser object (node's `HTTPParser` binding); only what the proxy uses is typed. */
export interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  /** Bytes parsed, or an Error with `code` (HPE_*) and `bytesParsed`. */
  execute(data: Buffer): number | ParseError;
  /** Signals EOF: completes a close-delimited message, or errors when a message is cut short. */
  finish(): number | ParseError | undefined;
  /** Reads straight from a stream handle (no 'data' events); results arrive through kOnExecute. */
  consume(handle: object): void;
  unconsume(): void;
  pause(): void;
  resume(): void;
  /** A copy of the buffer being parsed, valid inside kOnExecute only. */
  getCurrentBuffer(): Buffer;
  remove(): void;
  free(): void;
  close(): void;
  [slot: number]: unknown;
}

export interface ParseError extends Error {
  code: string;
  bytesParsed: number;
  reason?: string;
}

interface HTTPParserClass {
  new (): Parser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
}

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser?: HTTPParserClass; methods?: string[] };
// An internal, so a future node could drop or change it: fail at load with what to do, not later with a TypeError.
if (typeof common.HTTPParser?.prototype.execute !== 'function' || typeof common.HTTPParser.prototype.consume !== 'function' || !Array.isArray(common.methods)) {
  throw new Error(`cmesh's proxy drives node's own HTTP parser (_http_common.HTTPParser), which node ${process.version} does not expose as expected; run cmesh on Node 20, 22 or 24`);
}
export const HTTPParser: HTTPParserClass = common.HTTPParser;
const METHOD_NAMES: readonly string[] = common.methods;

export const kOnHeaders = HTTPParser.kOnHeaders | 0;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
export const kOnBody = HTTPParser.kOnBody | 0;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
export const kOnExecute = HTTPParser.kOnExecute | 0;
/** Strict: no lenient flag, so CL+TE, obs-fold, bare LF/CR and bad chunking are all parse errors. */
export const STRICT = HTTPParser.kLenientNone | 0;

/** kOnHeadersComplete return values understood by llhttp. */
export const PROCEED = 0;
/** The message has no body whatever its headers say (a response to HEAD). */
export const SKIP_BODY = 1;
/** Stops parsing right after this head; execute() then returns an HPE_PAUSED error carrying bytesParsed. */
export const PAUSE = 21;

/**
 * Method names by llhttp method number. `_http_common.methods` lists them in order but skips the RTSP range, so
 * later methods (QUERY) would be misnumbered; the numbers are learnt once by parsing one request per name.
 */
export const METHODS: readonly string[] = (() => {
  const byNumber: string[] = [];
  const p = new HTTPParser();
  let seen = -1;
  p[kOnHeadersComplete] = (_a: number, _b: number, _h: unknown, method: number) => {
    seen = method;
    return SKIP_BODY;
  };
  for (const name of METHOD_NAMES) {
    p.initialize(HTTPParser.REQUEST, {}, 0, STRICT);
    seen = -1;
    p.execute(Buffer.from(`${name} / HTTP/1.1\r\nHost: a\r\n\r\n`, 'latin1'));
    if (seen >= 0) byNumber[seen] = name;
  }
  p.close();
  return byNumber;
})();

/** A stream handle that a parser may consume (TCP sockets), with the `reading` flag net.Socket keeps beside it. */
interface ConsumableHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

function handleOf(socket: Socket): ConsumableHandle | null | undefined {
  return (socket as unknown as { _handle?: ConsumableHandle | null })._handle;
}

/** The handle of a socket if the parser can read from it directly, else undefined (then feed it 'data'). */
export function consumableHandle(socket: Socket): ConsumableHandle | undefined {
  const h = handleOf(socket);
  return h?.isStreamBase === true && h._consumed !== true ? h : undefined;
}

export function markConsumed(handle: object): void {
  (handle as ConsumableHandle)._consumed = true;
}

/** Stops reading a socket whose data a parser consumes (socket.pause() alone would not reach the handle). */
export function readStop(socket: Socket): void {
  const h = handleOf(socket);
  if (h?.reading === true) {
    h.reading = false;
    h.readStop();
  }
}

export function readStart(socket: Socket): void {
  const h = handleOf(socket);
  if (h !== null && h !== undefined && !h.reading && !socket.destroyed) {
    h.reading = true;
    h.readStart();
  }
}

/** Parsers are native objects; reusing freed ones spares an allocation per connection (node:http does the same). */
const freeParsers: Parser[] = [];

export function allocParser(): Parser {
  return freeParsers.pop() ?? new HTTPParser();
}

export function releaseParser(p: Parser, consumed: boolean): void {
  if (consumed) p.unconsume();
  p.remove();
  p[kOnHeaders] = null;
  p[kOnHeadersComplete] = null;
  p[kOnBody] = null;
  p[kOnMessageComplete] = null;
  p[kOnExecute] = null;
  if (freeParsers.length < 256) {
    p.free();
    freeParsers.push(p);
  } else {
    // The native object goes once the current callback stack has unwound.
    setImmediate(closeParser, p);
  }
}

function closeParser(p: Parser): void {
  p.close();
}
