// The client response head: the status line kept from one response to the next, and fields dropped or kept.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientResponseHead, headWithTrailer, memoResponseHead, newHeadMemo, newResponseFacts, statusLine } from './response-head.ts';

/** Each string built at run time, as node's parser hands them over (never the literal's own string object). */
const fresh = (xs: readonly string[]): string[] => xs.map((x) => [...x].join(''));

describe('client response head', () => {
  test('the kept status line is rebuilt whenever the status or the reason changes', () => {
    const seq: Array<[number, string]> = [
      [200, 'OK'],
      [200, 'OK'],
      [404, 'Not Found'],
      [404, 'Nope'],
      [200, 'Nope'],
      [200, ''],
      [200, 'OK'],
    ];
    for (const [status, reason] of seq) {
      // A reason built at run time each time, as the parser hands it over (not the literal's string object).
      const fresh = [...reason].join('');
      assert.equal(statusLine(status, fresh), `HTTP/1.1 ${status} ${reason}\r\n`);
    }
  });

  test('hop-by-hop fields and the ones Connection names are dropped; the rest keep their case and order', () => {
    const facts = newResponseFacts();
    const raw = ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Content-Length', '2', 'X-Kept', 'a'];
    const head = clientResponseHead(201, 'Created', raw, facts);
    assert.equal(head, 'HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nX-Kept: a\r\n');
    assert.deepEqual(facts, { contentLength: true, chunked: false, keepAliveTimeout: 5 });
    assert.equal(clientResponseHead(204, 'No Content', [], facts), 'HTTP/1.1 204 No Content\r\n');
    assert.deepEqual(facts, { contentLength: false, chunked: false, keepAliveTimeout: -1 });
  });

  test("a replica connection's repeated head is built once; any difference rebuilds it, facts included", () => {
    const a = ['x-served-by', 'h1', 'Content-Length', '1024', 'Date', 'Sat, 05 Dec 2026 01:00:00 GMT', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'];
    const aLater = a.map((x) => (x.startsWith('Sat') ? 'Sat, 05 Dec 2026 01:00:01 GMT' : x));
    const chunked = ['x-served-by', 'h1', 'Transfer-Encoding', 'chunked', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1'];
    const memo = newHeadMemo();
    const seq: Array<[number, string, readonly string[], number]> = [
      // status, reason, fields, heads built so far
      [200, 'OK', a, 1],
      [200, 'OK', a, 1],
      [200, 'OK', a, 1],
      [200, 'OK', aLater, 2],
      [200, 'OK', chunked, 3],
      [200, 'OK', aLater, 4],
      [201, 'OK', aLater, 5],
      [201, 'Created', aLater, 6],
      [201, 'Created', aLater.slice(0, 8), 7],
      [201, 'Created', aLater.slice(0, 8), 7],
    ];
    const facts = newResponseFacts();
    const direct = newResponseFacts();
    for (const [status, reason, fields, builds] of seq) {
      const head = memoResponseHead(status, fresh([reason])[0]!, fresh(fields), facts, memo);
      assert.equal(head, clientResponseHead(status, reason, fields, direct));
      assert.deepEqual(facts, direct, `facts for ${status} ${fields.join(',')}`);
      assert.equal(memo.builds, builds, `heads built after ${status} ${reason} ${fields.join(',')}`);
    }
  });

  test("a memo hit sets the client connection's facts, which another replica connection's head changed meanwhile", () => {
    const plain = ['Content-Length', '2', 'Keep-Alive', 'timeout=7'];
    const chunked = ['Transfer-Encoding', 'chunked'];
    const facts = newResponseFacts();
    const one = newHeadMemo();
    const two = newHeadMemo();
    memoResponseHead(200, 'OK', fresh(plain), facts, one);
    memoResponseHead(200, 'OK', fresh(chunked), facts, two);
    assert.deepEqual(facts, { contentLength: false, chunked: true, keepAliveTimeout: -1 });
    memoResponseHead(200, 'OK', fresh(plain), facts, one);
    assert.equal(one.builds, 1);
    assert.deepEqual(facts, { contentLength: true, chunked: false, keepAliveTimeout: 7 });
    memoResponseHead(200, 'OK', fresh(chunked), facts, two);
    assert.equal(two.builds, 1);
    assert.deepEqual(facts, { contentLength: false, chunked: true, keepAliveTimeout: -1 });
  });

  test('the head with its trailer is rebuilt whenever the head or the trailer changes', () => {
    const memo = newHeadMemo();
    const seq: Array<[string, string]> = [
      ['HTTP/1.1 200 OK\r\na: 1\r\n', '\r\n'],
      ['HTTP/1.1 200 OK\r\na: 1\r\n', '\r\n'],
      ['HTTP/1.1 200 OK\r\na: 2\r\n', '\r\n'],
      ['HTTP/1.1 200 OK\r\na: 2\r\n', 'connection: close\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\na: 1\r\n', 'connection: close\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\na: 1\r\n', '\r\n'],
    ];
    for (const [head, trailer] of seq) assert.equal(headWithTrailer(memo, fresh([head])[0]!, trailer), head + trailer);
  });
});
