// The fast bundle's `node:http` (bin/bundle-build-options.mjs puts it in place of cli/daemon-client.ts's import there
// only): one HTTP/1.1 request over node:net to the daemon's unix socket, the subset of http.request daemon-client uses
// (socketPath, method, path, headers, signal; 'response' and 'error'; a Readable response with statusCode and headers),
// framed as the control API answers: content-length, chunked, or until close. node:http's modules, parser and agent
// cost a `cmesh ps` more than the request itself (bench/RESULTS.md). Anything else — an upgrade, a response it cannot
// read — is an error coded FAST_PATH_MISS, on which the fast bundle hands the command to the full CLI (cli/fast-path.ts).

import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

export interface FastRequestOptions {
  socketPath?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  signal?: AbortSignal;
}

/** What node:http's IncomingMessage offers that the daemon client reads. */
export interface FastResponse extends Readable {
  statusCode: number;
  headers: Record<string, string>;
}

const MISS = 'CMESH_FAST_PATH_MISS';
const miss = (why: string): Error => Object.assign(new Error(`fast path: ${why}`), { code: MISS });
const HEAD_END = Buffer.from('\r\n\r\n');
/** What node:http rejects with when the request's signal aborts. */
const abortError = (): Error => Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

/** The response head (status line and headers) when it parses, else undefined. */
function parseHead(text: string): { statusCode: number; headers: Record<string, string> } | undefined {
  const [status, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(status ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode: Number(m[1]), headers };
}

/** Decodes a chunked body as it arrives into `push`; `finished` after the last chunk; throws on anything malformed. */
class ChunkedDecoder {
  #buf: Buffer = Buffer.alloc(0);
  #state: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  #left = 0;
  finished = false;
  constructor(readonly push: (data: Buffer) => void) {}
  write(data: Buffer): void {
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    while (!this.finished) {
      if (this.#state === 'data') {
        if (this.#buf.length === 0) return;
        const take = Math.min(this.#left, this.#buf.length);
        this.push(this.#buf.subarray(0, take));
        this.#buf = this.#buf.subarray(take);
        this.#left -= take;
        if (this.#left === 0) this.#state = 'crlf';
        continue;
      }
      if (this.#state === 'crlf') {
        if (this.#buf.length < 2) return;
        if (this.#buf[0] !== 0x0d || this.#buf[1] !== 0x0a) throw miss('a chunk without its CRLF');
        this.#buf = this.#buf.subarray(2);
        this.#state = 'size';
        continue;
      }
      const eol = this.#buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.#buf.subarray(0, eol).toString('latin1');
      this.#buf = this.#buf.subarray(eol + 2);
      if (this.#state === 'trailer') {
        // Trailer lines (the daemon sends none) are skipped; the empty line ends the body.
        if (line === '') this.finished = true;
        continue;
      }
      const size = /^[0-9a-fA-F]+/.exec(line)?.[0];
      if (size === undefined) throw miss('a malformed chunk size');
      this.#left = Number.parseInt(size, 16);
      this.#state = this.#left === 0 ? 'trailer' : 'data';
    }
  }
}

let firstResponse: (() => void) | undefined;
/** `cb` runs once, when the daemon's first answer has a head this client reads (cli/fast-entry.ts holds output till then). */
export function onFirstResponse(cb: () => void): void {
  firstResponse = cb;
}

/** One request; the returned emitter emits 'response' (a FastResponse) or 'error' (node's net error, with its code). */
export function request(options: FastRequestOptions): EventEmitter & { end(body?: string | Buffer): void } {
  const headers = options.headers ?? {};
  if (options.socketPath === undefined || 'upgrade' in headers) throw miss('only plain requests on a unix socket');
  const req = new EventEmitter() as EventEmitter & { end(body?: string | Buffer): void };
  req.end = (body) => {
    if (options.signal?.aborted) {
      queueMicrotask(() => req.emit('error', abortError()));
      return;
    }
    const lines = [`${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/1.1`, 'host: localhost', 'connection: close'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body !== undefined && !('content-length' in headers)) lines.push(`content-length: ${Buffer.byteLength(body)}`);
    const socket = connect(options.socketPath!);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (body !== undefined) socket.write(body);
    exchange(socket, req, options.signal);
  };
  return req;
}

function exchange(socket: Socket, req: EventEmitter, signal: AbortSignal | undefined): void {
  let res: FastResponse | undefined;
  let head: Buffer = Buffer.alloc(0);
  let body: Body | undefined;
  const fail = (err: Error): void => {
    signal?.removeEventListener('abort', onAbort);
    socket.destroy();
    if (res) res.destroy(err);
    else req.emit('error', err);
  };
  const onAbort = (): void => fail(abortError());
  signal?.addEventListener('abort', onAbort, { once: true });
  const finish = (): void => {
    signal?.removeEventListener('abort', onAbort);
    socket.destroy();
    res!.push(null);
  };
  socket.on('error', fail);
  socket.on('data', (data: Buffer) => {
    try {
      if (res === undefined) {
        head = head.length === 0 ? data : Buffer.concat([head, data]);
        const end = head.indexOf(HEAD_END);
        if (end < 0) return;
        const parsed = parseHead(head.subarray(0, end).toString('latin1'));
        if (parsed === undefined || parsed.statusCode < 200) throw miss('a response head it cannot read');
        // Destroyed by its reader (the daemon client's stream() once it has the result), it closes the connection.
        const readable = new Readable({
          read: () => undefined,
          destroy: (err, cb) => {
            socket.destroy();
            cb(err);
          },
        });
        // A body error may come before the caller, a microtask later, reads: it gets it from the stream's state then
        // (for await, readline); without a listener the 'error' event would crash the process first.
        readable.on('error', () => undefined);
        body = framing(parsed.headers, (chunk) => readable.push(chunk));
        res = Object.assign(readable, parsed);
        firstResponse?.();
        firstResponse = undefined;
        req.emit('response', res);
        data = head.subarray(end + HEAD_END.length);
      }
      if (data.length > 0) body!.write(data);
      if (body!.complete()) finish();
    } catch (err) {
      fail(err as Error);
    }
  });
  socket.on('end', () => {
    if (res === undefined) fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    else if (body!.complete() || body!.untilClose) finish();
    else fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  });
}

interface Body {
  write(data: Buffer): void;
  complete(): boolean;
  /** Neither chunked nor a content-length: the body ends when the daemon closes the connection. */
  untilClose?: boolean;
}

/** How the body ends: chunked, content-length, or (neither) the server closing the connection. */
function framing(headers: Record<string, string>, push: (data: Buffer) => void): Body {
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') throw miss(`transfer-encoding ${te}`);
    const d = new ChunkedDecoder(push);
    return { write: (data) => d.write(data), complete: () => d.finished };
  }
  const length = headers['content-length'];
  if (length !== undefined) {
    let left = Number(length);
    if (!Number.isSafeInteger(left) || left < 0) throw miss(`content-length ${length}`);
    return {
      write: (data) => {
        if (data.length > left) throw miss('more body than its content-length');
        left -= data.length;
        push(data);
      },
      complete: () => left === 0,
    };
  }
  return { write: push, complete: () => false, untilClose: true };
}
