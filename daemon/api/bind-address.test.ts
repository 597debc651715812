// The published-port bind rule: host_ip wins, then x-cmesh.bind, then loopback.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BIND_ADDRESS, bindAddress } from './bind-address.ts';

test('a port host_ip wins over x-cmesh.bind, which wins over loopback', () => {
  assert.equal(bindAddress({ hostIp: '127.0.0.2' }, { bind: '0.0.0.0' }), '127.0.0.2');
  assert.equal(bindAddress({}, { bind: '0.0.0.0' }), '0.0.0.0');
  assert.equal(bindAddress({}, {}), '127.0.0.1');
  assert.equal(bindAddress({ hostIp: undefined }, { bind: undefined }), DEFAULT_BIND_ADDRESS);
  assert.equal(bindAddress({ hostIp: '::1' }, {}), '::1');
});
