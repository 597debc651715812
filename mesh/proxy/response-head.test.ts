// The client response head: the status line kept from one response to the next, and fields dropped or kept.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientResponseHead, newResponseFacts, statusLine } from './response-head.ts';

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
});
