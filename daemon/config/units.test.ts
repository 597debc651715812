// Small parsers: short port specs, Go durations and Compose's shell splitting.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from './normalize/duration.ts';
import { parsePortSpec } from './normalize/ports.ts';
import { shellSplit } from './normalize/shell-split.ts';

const ports = (s: string) => {
  const r = parsePortSpec(s);
  return 'error' in r ? r.error : r.mappings;
};

test('short port forms', () => {
  assert.deepEqual(ports('80'), [{ target: 80, protocol: 'tcp' }]);
  assert.deepEqual(ports('8080:80'), [{ target: 80, published: 8080, protocol: 'tcp' }]);
  assert.deepEqual(ports('127.0.0.1:8080:80'), [{ target: 80, published: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }]);
  assert.deepEqual(ports('127.0.0.1::80'), [{ target: 80, hostIp: '127.0.0.1', protocol: 'tcp' }]);
  assert.deepEqual(ports('53:53/udp'), [{ target: 53, published: 53, protocol: 'udp' }]);
  assert.deepEqual(ports('80/udp'), [{ target: 80, protocol: 'udp' }]);
  assert.deepEqual(ports('[::1]:8080:80'), [{ target: 80, published: 8080, hostIp: '::1', protocol: 'tcp' }]);
});

test('port ranges expand pairwise', () => {
  assert.deepEqual(ports('8080-8081:80-81'), [
    { target: 80, published: 8080, protocol: 'tcp' },
    { target: 81, published: 8081, protocol: 'tcp' },
  ]);
  assert.deepEqual(ports('3000-3001'), [{ target: 3000, protocol: 'tcp' }, { target: 3001, protocol: 'tcp' }]);
});

test('a host range with one container port is one mapping on any port of the range (spec: "80-90:8080")', () => {
  assert.deepEqual(ports('80-90:8080'), [{ target: 8080, published: 80, publishedEnd: 90, protocol: 'tcp' }]);
  assert.deepEqual(ports('127.0.0.1:5000-5010:5000/udp'), [{ target: 5000, published: 5000, publishedEnd: 5010, hostIp: '127.0.0.1', protocol: 'udp' }]);
  assert.deepEqual(parsePortSpec('9000-9010:80'), { mappings: [{ target: 80, published: 9000, publishedEnd: 9010, protocol: 'tcp' }] });
});

test('malformed ports are errors', () => {
  for (const bad of ['', 'abc', '0', '65536', '80:', ':80:80:1', '8080:80/sctp', '999.1.1.1:80:80', '81-80', '8000-8002:80-81', '[::1:80:80']) {
    assert.equal(typeof ports(bad), 'string', bad);
  }
});

test('Go durations', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('250us'), 0.25);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['10', '-1s', '1d', 's', '1 s', '', '1.2.3s']) assert.equal(parseDuration(bad), undefined, bad);
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(3_723_004), '1h2m3s4ms');
  assert.equal(formatDuration(0), '0s');
});

test('shell splitting like Compose', () => {
  assert.deepEqual(shellSplit('npm run start'), { words: ['npm', 'run', 'start'] });
  assert.deepEqual(shellSplit(`sh -c "echo 'hi there' && exit 1"`), { words: ['sh', '-c', "echo 'hi there' && exit 1"] });
  assert.deepEqual(shellSplit(`echo 'a "b"' c\\ d "e\\"f" ''`), { words: ['echo', 'a "b"', 'c d', 'e"f', ''] });
  assert.deepEqual(shellSplit('  spaced   out  '), { words: ['spaced', 'out'] });
  assert.deepEqual(shellSplit('echo $HOME'), { words: ['echo', '$HOME'] });
  assert.ok('error' in shellSplit('echo "open'));
});
