// The parser boundary: the load-time check of node's parser, the choice of read path it leads to (logged once), and
// ParsedSocket on real loopback sockets in both read paths. The proxy's HTTP suites run in both paths as well.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type HTTPParser,
  METHODS,
  PARSER_CHECK,
  PAUSE,
  PROCEED,
  type ParseError,
  type ParseSink,
  ParsedSocket,
  type Parser,
  ReadPathChooser,
  checkParser,
  readPaths,
} from './llhttp.ts';
import { READ_PATHS } from './testing.ts';

const common = createRequire(import.meta.url)('_http_common') as { HTTPParser: typeof HTTPParser; methods: string[] };

/** `_http_common` with its parser class replaced by a subclass that `doctor` may change. */
function doctored(doctor: (P: typeof HTTPParser) => void): unknown {
  class Doctored extends (common.HTTPParser as unknown as new () => object) {}
  const P = Doctored as unknown as typeof HTTPParser;
  doctor(P);
  return { HTTPParser: P, methods: common.methods };
}

function hide(target: object, key: string): void {
  Object.defineProperty(target, key, { value: undefined, configurable: true });
}

describe('parser check', { timeout: 30_000 }, () => {
  test("this node's parser passes, with method numbers learnt by parsing", () => {
    assert.deepEqual(checkParser(common), PARSER_CHECK);
    assert.equal(PARSER_CHECK.fatal, undefined);
    assert.equal(PARSER_CHECK.noConsume, undefined);
    for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS']) assert.ok(METHODS.includes(m), m);
    // QUERY sits after the RTSP range, which _http_common.methods skips: its index there is not its number.
    if (common.methods.includes('QUERY')) assert.notEqual(METHODS.indexOf('QUERY'), common.methods.indexOf('QUERY'));
    assert.equal(readPaths.choose(), process.env.CMESH_PROXY_PARSER === 'fallback' ? 'data' : 'consume');
  });

  test('a missing consume-path constant or method turns the consume path off, not the parser', () => {
    const cases: [string, (P: typeof HTTPParser) => void, RegExp][] = [
      ['kOnExecute missing', (P) => hide(P, 'kOnExecute'), /kOnExecute is not an integer/],
      ['kOnExecute on another slot', (P) => Object.defineProperty(P, 'kOnExecute', { value: P.kOnBody }), /kOnExecute overlaps/],
      ['consume() missing', (P) => hide(P.prototype, 'consume'), /no consume\(\)/],
      ['getCurrentBuffer() wrong', (P) => Object.defineProperty(P.prototype, 'getCurrentBuffer', { value: () => Buffer.alloc(0) }), /getCurrentBuffer\(\)/],
    ];
    for (const [name, doctor, why] of cases) {
      const check = checkParser(doctored(doctor));
      assert.equal(check.fatal, undefined, name);
      assert.match(check.noConsume ?? '', why, name);
      assert.deepEqual(check.methods, PARSER_CHECK.methods, name);
    }
  });

  test('a parser the proxy cannot parse with is fatal (both read paths need it)', () => {
    const cases: [string, unknown, RegExp][] = [
      ['no HTTPParser', { methods: common.methods }, /no HTTPParser/],
      ['kOnBody missing', doctored((P) => hide(P, 'kOnBody')), /kOnBody is not an integer/],
      ['headersCompleted() missing', doctored((P) => hide(P.prototype, 'headersCompleted')), /no headersCompleted\(\)/],
      [
        'lenient parsing',
        doctored((P) => {
          const init = P.prototype.initialize;
          Object.defineProperty(P.prototype, 'initialize', {
            value(this: Parser, type: number, res: object, max: number) {
              return init.call(this, type, res, max, (P as unknown as { kLenientAll: number }).kLenientAll);
            },
          });
        }),
        /Content-Length with Transfer-Encoding is accepted/,
      ],
      [
        'PAUSE ignored',
        doctored((P) => {
          const exec = P.prototype.execute;
          Object.defineProperty(P.prototype, 'execute', {
            value(this: Parser, data: Buffer) {
              const ret = exec.call(this, data);
              if (typeof ret === 'number' || ret.code !== 'HPE_PAUSED') return ret;
              this.resume();
              return ret.bytesParsed + (exec.call(this, data.subarray(ret.bytesParsed)) as number);
            },
          });
        }),
        /PAUSE does not stop/,
      ],
    ];
    for (const [name, c, why] of cases) {
      const check = checkParser(c);
      assert.match(check.fatal ?? '', why, name);
      assert.equal(check.noConsume, check.fatal, name);
    }
  });

  test('a failed check chooses the data path and says so once, to the first caller with a log', () => {
    const chooser = new ReadPathChooser(checkParser(doctored((P) => hide(P, 'kOnExecute'))), undefined);
    const lines: string[] = [];
    assert.equal(chooser.choose(), 'data');
    for (let i = 0; i < 3; i++) assert.equal(chooser.choose((l) => lines.push(l)), 'data');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /kOnExecute is not an integer.*'data' events/);

    const forced = new ReadPathChooser(PARSER_CHECK, 'fallback');
    assert.equal(forced.choose((l) => lines.push(l)), 'data');
    assert.match(lines[1]!, /CMESH_PROXY_PARSER=fallback/);

    const fine = new ReadPathChooser(PARSER_CHECK, undefined);
    assert.equal(fine.choose((l) => lines.push(l)), 'consume');
    assert.equal(lines.length, 2);
  });

  test('a node without kOnExecute: proxies fall back to the data path, serve requests, and the log says it once', async () => {
    // A child process whose _http_common lost kOnExecute before the proxy loaded (node:http took its copy first).
    const url = (f: string): string => JSON.stringify(new URL(f, import.meta.url).href);
    const script = `await import('node:http');
const { createRequire } = await import('node:module');
delete createRequire(process.cwd() + '/')('_http_common').HTTPParser.kOnExecute;
const { TestPool, startProxy, startUpstream } = await import(${url('./testing.ts')});
const up = await startUpstream('web#1');
const lines = [];
const results = [];
for (let i = 0; i < 2; i++) {
  const p = await startProxy(new TestPool('web', [up.upstream]), undefined, { log: (l) => lines.push(l) });
  const res = await fetch(p.url + '/n' + i);
  results.push({ readPath: p.listener.proxy.readPath, status: res.status, body: await res.text() });
  await p.close();
}
await up.close();
console.log(JSON.stringify({ results, lines }));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, CMESH_PROXY_PARSER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, err);
    const got = JSON.parse(out.trim().split('\n').pop() ?? '') as { results: { readPath: string; status: number; body: string }[]; lines: string[] };
    assert.deepEqual(got.results, [
      { readPath: 'data', status: 200, body: 'web#1 GET /n0' },
      { readPath: 'data', status: 200, body: 'web#1 GET /n1' },
    ]);
    assert.equal(got.lines.length, 1, got.lines.join('\n'));
    assert.match(got.lines[0]!, /kOnExecute/);
  });
});

/** A ParseSink that records heads, bodies and reads, pausing after the head of `/pause`. */
class Recorder implements ParseSink {
  readonly events: string[] = [];
  ps: ParsedSocket | undefined;
  rest: Buffer | undefined;
  parsedHeaders(): void {}
  parsedHead(_ma: number, _mi: number, _h: string[] | undefined, method: number | undefined, url: string | undefined): number {
    this.events.push(`head ${METHODS[method ?? 1]} ${url}`);
    return url === '/pause' ? PAUSE : PROCEED;
  }
  parsedBody(chunk: Buffer): void {
    this.events.push(`body ${chunk.toString()}`);
  }
  parsedMessageComplete(): void {
    this.events.push('end');
  }
  parsedRead(ret: number | ParseError): void {
    if (typeof ret !== 'number' && ret.code === 'HPE_PAUSED') this.rest = this.ps!.unparsed(ret.bytesParsed);
  }
}

async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => srv.once('connection', resolve));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  await new Promise<void>((resolve) => (client.connecting ? client.once('connect', () => resolve()) : resolve()));
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'timed out');
};

describe('ParsedSocket', { timeout: 30_000 }, () => {
  for (const path of READ_PATHS) {
    test(`${path}: parses what the socket reads, stops at a PAUSE with the rest in hand, and hands the socket over`, async () => {
      const pair = await socketPair();
      try {
        const sink = new Recorder();
        const ps = new ParsedSocket(pair.server, 'request', 16 * 1024, sink, path);
        sink.ps = ps;
        ps.attach();
        assert.equal(ps.readPath, path);
        assert.equal(pair.server.listenerCount('data'), path === 'data' ? 1 : 0);
        pair.client.write('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi');
        await until(() => sink.events.length === 3);
        assert.deepEqual(sink.events, ['head POST /a', 'body hi', 'end']);

        // Paused reading: nothing reaches the parser until resume().
        ps.pause();
        pair.client.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(sink.events.length, 3);
        ps.resume();
        await until(() => sink.events.length === 5);
        assert.deepEqual(sink.events.slice(3), ['head GET /b', 'end']);

        // PAUSE: the bytes after that head stay unparsed and are handed back; the socket then reads as a stream.
        pair.client.write('GET /pause HTTP/1.1\r\nHost: x\r\n\r\nafter');
        await until(() => sink.rest !== undefined);
        assert.equal(sink.rest!.toString(), 'after');
        ps.pause();
        ps.handOver();
        assert.equal(pair.server.listenerCount('data'), 0);
        const more = new Promise<string>((resolve) => pair.server.once('data', (d: Buffer) => resolve(d.toString())));
        pair.client.write('raw bytes');
        assert.equal(await more, 'raw bytes');
        assert.deepEqual(sink.events.slice(5), ['head GET /pause']);
      } finally {
        pair.close();
      }
    });
  }
});
