// node's own HTTP/1.1 parser (llhttp, strict mode) reading the proxy's sockets: the one module that loads and drives
// node internals (`_http_common`'s parser, its `consume` of a socket's `_handle`); llhttp-contract.ts states and checks
// what of them is relied on. The rest of the proxy sees ParsedSocket, ParseSink and the parser constants.

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { type HTTPParserClass, PAUSE, type ParseError, type Parser, type ParserCheck, checkParser } from './llhttp-contract.ts';
import { type ReadPath, ReadPathChooser } from './read-path.ts';
import { countFreshBytes } from './young-gc-nudge.ts';

export { PAUSE, PROCEED, SKIP_BODY, type ParseError, type Parser, type ParserCheck, checkParser } from './llhttp-contract.ts';
export { type ReadPath, ReadPathChooser } from './read-path.ts';

// `_http_common` is a public-but-undocumented builtin; node:http itself creates its parsers from it the same way.
const common = createRequire(import.meta.url)('_http_common') as unknown;
/** Checked once at load against canned messages; a future node could drop or change any of it. */
export const PARSER_CHECK: ParserCheck = checkParser(common);
if (PARSER_CHECK.fatal !== undefined) {
  throw new Error(
    `cmesh's proxy drives node's own HTTP parser (_http_common.HTTPParser), which node ${process.version} does not offer as expected (${PARSER_CHECK.fatal}); run cmesh on Node 20, 22 or 24`,
  );
}
export const HTTPParser: HTTPParserClass = (common as { HTTPParser: HTTPParserClass }).HTTPParser;
/** Method names by llhttp method number (learnt by the check: `_http_common.methods` skips the RTSP range). */
export const METHODS: readonly string[] = PARSER_CHECK.methods;

export const kOnHeaders = HTTPParser.kOnHeaders | 0;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
export const kOnBody = HTTPParser.kOnBody | 0;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
/** Only meaningful when the check found the consume path whole (it is not touched otherwise). */
export const kOnExecute = HTTPParser.kOnExecute | 0;
/**
 * node's parser looks this slot up (from C++, by index) at the start of every message, request and response. The
 * proxy never sets it, and a hole sends that lookup up the prototype chain; an own `null` ends it at the parser:
 * ~100 instructions less a message (callgrind, bench/RESULTS.md). -1 on a node without the callback.
 */
const kOnMessageBegin = typeof HTTPParser.kOnMessageBegin === 'number' ? HTTPParser.kOnMessageBegin | 0 : -1;
/** Strict: no lenient flag, so CL+TE, obs-fold, bare LF/CR and bad chunking are all parse errors. */
export const STRICT = HTTPParser.kLenientNone | 0;

export const readPaths = new ReadPathChooser(PARSER_CHECK, process.env.CMESH_PROXY_PARSER);

/** What a ParsedSocket's owner hears from the parser (llhttp's callbacks, in their argument order). */
export interface ParseSink {
  /** Head fields (and, for a request, target bytes) handed over before the head is complete (long or split heads). */
  parsedHeaders(fields: string[], url: string): void;
  /**
   * A complete head; `headers`/`url` are undefined when they came through parsedHeaders. Returns PROCEED, SKIP_BODY
   * (no body whatever the head says) or PAUSE (parse nothing further until `continueParsing`).
   */
  parsedHead(
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number | undefined,
    url: string | undefined,
    status: number | undefined,
    reason: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number;
  parsedBody(chunk: Buffer): void;
  parsedMessageComplete(): void;
  /** After each read (or `feed`) is parsed: the bytes parsed, or the parse error (HPE_PAUSED after a PAUSE). */
  parsedRead(ret: number | ParseError): void;
}

type OwnedParser = Parser & { sink: ParseSink | null };

/** A stream handle that a parser may consume (TCP sockets), with the `reading` flag net.Socket keeps beside it. */
interface ConsumableHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

/**
 * One socket read by one parser. `attach` starts parsing what the socket reads, `pause`/`resume` stop and restart
 * reading it (backpressure), `release` gives the parser back, `handOver` also returns the socket to plain stream
 * reading (an upgrade's tunnel). Per read the owner hears its ParseSink callbacks, then `parsedRead`.
 */
export class ParsedSocket {
  readonly socket: Socket;
  readonly #parser: OwnedParser;
  readonly #sink: ParseSink;
  readonly #path: ReadPath;
  /** The parser reads the handle itself; else 'data' events feed it. */
  #consumed = false;
  #onData: ((chunk: Buffer) => void) | null = null;
  /** The bytes being parsed when they came from 'data' or `feed` (a consumed read is asked of the parser). */
  #current: Buffer | null = null;
  #released = false;
  /** kOnMessageComplete is set (it is switched off for bodiless requests; one store per change, not per request). */
  #wantComplete = true;

  constructor(socket: Socket, kind: 'request' | 'response', maxHeaderSize: number, sink: ParseSink, path: ReadPath) {
    this.socket = socket;
    this.#sink = sink;
    this.#path = path;
    const parser = (freeParsers.pop() ?? new HTTPParser()) as OwnedParser;
    parser.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, STRICT);
    parser.sink = sink;
    if (kOnMessageBegin >= 0) parser[kOnMessageBegin] = null;
    parser[kOnHeaders] = onHeaders;
    parser[kOnHeadersComplete] = onHeadersComplete;
    parser[kOnBody] = onBody;
    parser[kOnMessageComplete] = onMessageComplete;
    this.#parser = parser;
  }

  /** How this socket is read (`data` also when the consume path was asked for but its handle cannot be consumed). */
  get readPath(): ReadPath {
    return this.#consumed ? 'consume' : 'data';
  }

  /** Starts parsing what the socket reads (a client socket at once; a replica socket once connected). */
  attach(): void {
    const socket = this.socket;
    if (this.#path === 'consume') {
      const h = (socket as unknown as { _handle?: ConsumableHandle | null })._handle;
      if (h?.isStreamBase === true && h._consumed !== true && typeof h.readStart === 'function' && typeof h.readStop === 'function') {
        h._consumed = true;
        this.#parser[kOnExecute] = onExecute;
        this.#parser.consume(h);
        this.#consumed = true;
        return;
      }
    }
    const onData = (chunk: Buffer): void => this.feed(chunk);
    this.#onData = onData;
    socket.on('data', onData);
  }

  /** Parses bytes as if just read (a pipelined remainder held back during a PAUSE); the sink hears `parsedRead`. */
  feed(data: Buffer): void {
    const outer = this.#current;
    this.#current = data;
    const ret = this.#parser.execute(data);
    // Released by a callback of this read: the parser may already serve another socket.
    if (!this.#released) this.#sink.parsedRead(ret);
    this.#current = outer;
  }

  /** Inside `parsedRead`: the bytes of this read from `offset` on (after a paused or upgrade head). */
  unparsed(offset: number): Buffer {
    return (this.#current ?? this.#parser.getCurrentBuffer()).subarray(offset);
  }

  /** Stops reading the socket (socket.pause() alone would not reach a consumed handle). */
  pause(): void {
    if (!this.#consumed) {
      this.socket.pause();
      return;
    }
    const h = handleOf(this.socket);
    if (h?.reading === true) {
      h.reading = false;
      h.readStop();
    }
  }

  resume(): void {
    if (this.#consumed) readStart(this.socket);
    else this.socket.resume();
  }

  /** Parsing goes on after a head answered PAUSE. */
  continueParsing(): void {
    this.#parser.resume();
  }

  /** A message's head is complete (false while part of one has arrived). */
  headersCompleted(): boolean {
    return this.#parser.headersCompleted();
  }

  /** Whether the sink hears `parsedMessageComplete` (a bodiless request's is not needed: one call less). */
  wantMessageComplete(on: boolean): void {
    if (on === this.#wantComplete) return;
    this.#wantComplete = on;
    this.#parser[kOnMessageComplete] = on ? onMessageComplete : null;
  }

  /** EOF: completes a close-delimited message, or returns an error when a message is cut short. */
  finish(): number | ParseError | undefined {
    return this.#parser.finish();
  }

  /** Gives the parser back (the socket is closing); the sink hears nothing more. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const p = this.#parser;
    if (this.#consumed) {
      p.unconsume();
      p[kOnExecute] = null;
    }
    if (this.#onData !== null) {
      this.socket.off('data', this.#onData);
      this.#onData = null;
    }
    p.sink = null;
    p.remove();
    p[kOnHeaders] = null;
    p[kOnHeadersComplete] = null;
    p[kOnBody] = null;
    p[kOnMessageComplete] = null;
    if (freeParsers.length < 256) {
      p.free();
      freeParsers.push(p);
    } else {
      // The native object goes once the current callback stack has unwound.
      setImmediate(closeParser, p);
    }
  }

  /** Releases the parser and leaves the socket to stream reading (pipe): an upgraded connection's tunnel. */
  handOver(): void {
    const consumed = this.#consumed;
    this.release();
    // node:http does the same after 'upgrade': whoever reads the stream next decides its flowing mode.
    (this.socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    if (consumed) readStart(this.socket);
  }
}

function handleOf(socket: Socket): ConsumableHandle | null | undefined {
  return (socket as unknown as { _handle?: ConsumableHandle | null })._handle;
}

function readStart(socket: Socket): void {
  const h = handleOf(socket);
  if (h !== null && h !== undefined && !h.reading && !socket.destroyed) {
    h.reading = true;
    h.readStart();
  }
}

/** Parsers are native objects; reusing freed ones spares an allocation per connection (node:http does the same). */
const freeParsers: Parser[] = [];

function closeParser(p: Parser): void {
  p.close();
}

function onHeaders(this: OwnedParser, fields: string[], url: string): void {
  this.sink?.parsedHeaders(fields, url);
}

function onHeadersComplete(
  this: OwnedParser,
  major: number,
  minor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  status: number | undefined,
  reason: string | undefined,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  const sink = this.sink;
  return sink === null ? PAUSE : sink.parsedHead(major, minor, headers, method, url, status, reason, upgrade, keepAlive);
}

function onBody(this: OwnedParser, chunk: Buffer): void {
  countFreshBytes(chunk.length);
  this.sink?.parsedBody(chunk);
}

function onMessageComplete(this: OwnedParser): void {
  this.sink?.parsedMessageComplete();
}

function onExecute(this: OwnedParser, ret: number | ParseError): void {
  this.sink?.parsedRead(ret);
}

// ---- raw parts, for bench/proxy-floor.ts only (the node floor measures exactly these primitives) ----

export function allocParser(): Parser {
  return freeParsers.pop() ?? new HTTPParser();
}

/** The handle of a socket if a parser can consume it, else undefined. */
export function consumableHandle(socket: Socket): object | undefined {
  const h = handleOf(socket);
  return h?.isStreamBase === true && h._consumed !== true ? h : undefined;
}

export function markConsumed(handle: object): void {
  (handle as ConsumableHandle)._consumed = true;
}
