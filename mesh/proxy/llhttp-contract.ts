// What the proxy relies on in node's HTTP parser binding, and the check llhttp.ts runs on it once at load: canned
// requests and responses parsed the way the proxy parses, and every constant it uses. Nothing here loads node
// internals itself (llhttp.ts hands over `_http_common`), so a test can hand over a doctored copy.

/** kOnHeadersComplete return values understood by llhttp. */
export const PROCEED = 0;
/** The message has no body whatever its headers say (a response to HEAD). */
export const SKIP_BODY = 1;
/** Stops parsing right after this head; execute() then returns an HPE_PAUSED error carrying bytesParsed. */
export const PAUSE = 21;

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
  /** A copy of the buffer being parsed, valid inside a callback of execute() or kOnExecute only. */
  getCurrentBuffer(): Buffer;
  headersCompleted(): boolean;
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

export interface HTTPParserClass {
  new (): Parser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  /** node ≥ 18 asks for this callback at every message's start (undefined on a node without it). */
  kOnMessageBegin?: number;
  kLenientNone: number;
}

export interface ParserCheck {
  /** Why the parser cannot serve the proxy at all (both read paths parse with it): llhttp.ts then refuses to load. */
  fatal: string | undefined;
  /** Why the parser cannot consume socket handles: sockets are then read through 'data' events. */
  noConsume: string | undefined;
  /** Method names by llhttp method number (`_http_common.methods` skips the RTSP range, so numbers are learnt). */
  methods: readonly string[];
}

/** Methods the proxy names in its own decisions. */
const NAMED_METHODS = ['GET', 'HEAD', 'POST', 'DELETE', 'CONNECT'];
const PARSER_METHODS = ['initialize', 'execute', 'finish', 'pause', 'resume', 'headersCompleted', 'remove', 'free', 'close'];
const CALLBACKS = ['kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete'] as const;

class Mismatch extends Error {}

function need(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Mismatch(what);
}

/** Checks `common` (node's `_http_common`, or a stand-in) against everything the proxy relies on. */
export function checkParser(common: unknown): ParserCheck {
  let methods: readonly string[] = [];
  let P: HTTPParserClass;
  try {
    P = parserClass(common);
    methods = learnMethods(P, (common as { methods: string[] }).methods);
    for (const m of NAMED_METHODS) need(methods.includes(m), `method ${m} is not parsed`);
    cannedRequests(P, methods);
    cannedResponses(P);
  } catch (err) {
    const why = describe(err);
    return { fatal: why, noConsume: why, methods };
  }
  let noConsume: string | undefined;
  try {
    consumeParts(P);
  } catch (err) {
    noConsume = describe(err);
  }
  return { fatal: undefined, noConsume, methods };
}

function describe(err: unknown): string {
  return err instanceof Mismatch ? err.message : `the canned parse threw ${String(err)}`;
}

function parserClass(common: unknown): HTTPParserClass {
  const c = common as { HTTPParser?: HTTPParserClass; methods?: unknown } | undefined;
  const P = c?.HTTPParser;
  need(typeof P === 'function', 'no HTTPParser');
  for (const m of PARSER_METHODS) need(typeof (P.prototype as unknown as Record<string, unknown>)[m] === 'function', `HTTPParser has no ${m}()`);
  for (const k of ['REQUEST', 'RESPONSE', 'kLenientNone', ...CALLBACKS] as const) need(Number.isInteger(P[k]), `HTTPParser.${k} is not an integer`);
  need(new Set(CALLBACKS.map((k) => P[k])).size === CALLBACKS.length, 'HTTPParser callback slots overlap');
  need(Array.isArray(c?.methods) && c.methods.every((m) => typeof m === 'string'), 'no method list');
  return P;
}

function learnMethods(P: HTTPParserClass, names: string[]): string[] {
  const byNumber: string[] = [];
  const p = new P();
  let seen = -1;
  p[P.kOnHeadersComplete] = (_a: number, _b: number, _h: unknown, method: number) => {
    seen = method;
    return SKIP_BODY;
  };
  for (const name of names) {
    p.initialize(P.REQUEST, {}, 0, P.kLenientNone);
    seen = -1;
    p.execute(Buffer.from(`${name} / HTTP/1.1\r\nHost: a\r\n\r\n`, 'latin1'));
    if (seen >= 0) byNumber[seen] = name;
  }
  p.close();
  return byNumber;
}

interface Head {
  major: number;
  minor: number;
  fields: string[];
  method: string | undefined;
  url: string;
  status: number | undefined;
  reason: string | undefined;
  upgrade: boolean;
  keepAlive: boolean;
}

/** A parser whose callbacks record what the proxy's connections would see; `answer` decides each head's return. */
function recorder(P: HTTPParserClass, type: number, maxHeaderSize: number, methods: readonly string[], answer: (h: Head) => number) {
  const p = new P();
  p.initialize(type, {}, maxHeaderSize, P.kLenientNone);
  const seen = { heads: [] as Head[], bodies: [] as string[], complete: 0 };
  let fields: string[] = [];
  let url = '';
  p[P.kOnHeaders] = (f: string[], u: string) => {
    fields.push(...f);
    url += u;
  };
  p[P.kOnHeadersComplete] = (
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number | undefined,
    u: string | undefined,
    status: number | undefined,
    reason: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ) => {
    // Fields come either with the head or, for a head split over reads, all through kOnHeaders before it.
    need(headers === undefined || fields.length === 0, 'head fields came both ways');
    const h: Head = { major, minor, fields: headers ?? fields, method: method === undefined ? undefined : methods[method], url: u ?? url, status, reason, upgrade, keepAlive };
    fields = [];
    url = '';
    seen.heads.push(h);
    return answer(h);
  };
  p[P.kOnBody] = (b: Buffer) => {
    seen.bodies.push(b.toString('latin1'));
  };
  p[P.kOnMessageComplete] = () => {
    seen.complete++;
  };
  return { p, seen };
}

function isParseError(ret: unknown, code?: string): ret is ParseError {
  const e = ret as ParseError;
  return ret instanceof Error && typeof e.code === 'string' && e.code.startsWith('HPE_') && typeof e.bytesParsed === 'number' && (code === undefined || e.code === code);
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function cannedRequests(P: HTTPParserClass, methods: readonly string[]): void {
  // A head split over two reads, its body, then a pipelined head answered PAUSE with a third request behind it.
  const { p, seen } = recorder(P, P.REQUEST, 0, methods, (h) => (h.url === '/next' ? PAUSE : PROCEED));
  const read1 = bytes('POST /a?b HTTP/1.1\r\nHost: x\r\n');
  const third = 'DELETE /z HTTP/1.1\r\nHost: x\r\n\r\n';
  const read2 = bytes(`Content-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n${third}`);
  need(p.execute(read1) === read1.length && !p.headersCompleted(), 'a partial head is not parsed as partial');
  const paused = p.execute(read2);
  need(isParseError(paused, 'HPE_PAUSED') && paused.bytesParsed === read2.length - third.length, 'PAUSE does not stop right after the head');
  p.resume();
  need(p.execute(read2.subarray(paused.bytesParsed)) === third.length, 'parsing does not go on after resume()');
  const [post, next, del] = seen.heads;
  need(
    seen.heads.length === 3 &&
      same(post, { major: 1, minor: 1, fields: ['Host', 'x', 'Content-Length', '5'], method: 'POST', url: '/a?b', upgrade: false, keepAlive: true }) &&
      next?.method === 'GET' &&
      next.url === '/next' &&
      del?.method === 'DELETE' &&
      same(del.fields, ['Host', 'x']),
    'request heads are not reported as expected',
  );
  need(seen.bodies.join('') === 'hello' && seen.complete === 3, 'request bodies or their ends are not reported as expected');
  p.close();

  // An upgrade head: parsing stops after it, the rest of the read is for the tunnel.
  const up = recorder(P, P.REQUEST, 0, methods, () => PROCEED);
  const head = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n';
  need(up.p.execute(bytes(`${head}frames`)) === head.length && up.seen.heads[0]?.upgrade === true, 'an upgrade head does not stop the parse');
  up.p.close();

  // Strict mode refuses CL+TE, and the head size limit holds.
  const strict = recorder(P, P.REQUEST, 64, methods, () => PROCEED);
  need(isParseError(strict.p.execute(bytes('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'))), 'Content-Length with Transfer-Encoding is accepted');
  strict.p.initialize(P.REQUEST, {}, 64, P.kLenientNone);
  need(isParseError(strict.p.execute(bytes(`GET / HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(100)}\r\n\r\n`)), 'HPE_HEADER_OVERFLOW'), 'the head size limit does not hold');
  strict.p.close();
}

function cannedResponses(P: HTTPParserClass): void {
  // A framed response, then one whose body is skipped (the answer to HEAD), on one connection.
  const { p, seen } = recorder(P, P.RESPONSE, 0, [], (h) => (h.reason === 'Head' ? SKIP_BODY : PROCEED));
  const two = bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 Head\r\nContent-Length: 10\r\n\r\n');
  need(p.execute(two) === two.length, 'a response is not parsed');
  need(
    same(seen.heads[0], { major: 1, minor: 1, fields: ['Content-Length', '2'], url: '', status: 200, reason: 'OK', upgrade: false, keepAlive: true }) &&
      seen.heads[1]?.reason === 'Head' &&
      seen.bodies.join('') === 'ok' &&
      seen.complete === 2,
    'response heads, bodies or SKIP_BODY are not reported as expected',
  );
  // Close-delimited: EOF completes it; a declared length cut short by EOF is an error.
  p.initialize(P.RESPONSE, {}, 0, P.kLenientNone);
  const closeDelimited = bytes('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc');
  need(p.execute(closeDelimited) === closeDelimited.length && seen.heads[2]?.keepAlive === false, 'Connection: close is not reported');
  const eof = p.finish();
  need(!isParseError(eof) && (seen.complete as number) === 3 && seen.bodies.join('') === 'okabc', 'EOF does not complete a close-delimited response');
  p.initialize(P.RESPONSE, {}, 0, P.kLenientNone);
  p.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc'));
  need(isParseError(p.finish()), 'EOF inside a declared length is not an error');
  p.close();
}

/** The consume path's parts: consume/unconsume, the kOnExecute slot, and the current read's bytes. */
function consumeParts(P: HTTPParserClass): void {
  const proto = P.prototype as unknown as Record<string, unknown>;
  for (const m of ['consume', 'unconsume', 'getCurrentBuffer']) need(typeof proto[m] === 'function', `HTTPParser has no ${m}()`);
  need(Number.isInteger(P.kOnExecute), 'HTTPParser.kOnExecute is not an integer');
  need(!CALLBACKS.some((k) => P[k] === P.kOnExecute), 'HTTPParser.kOnExecute overlaps another callback slot');
  const p = new P();
  p.initialize(P.REQUEST, {}, 0, P.kLenientNone);
  const read = bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2');
  let current: Buffer | undefined;
  p[P.kOnHeadersComplete] = () => {
    current = p.getCurrentBuffer();
    return PROCEED;
  };
  p.execute(read);
  p.close();
  need(current?.equals(read) === true, "getCurrentBuffer() does not return the read's bytes");
}
