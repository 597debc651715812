// Log prefixes: aligned `service-n | `, stable colour per service, plain without colour.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogPrefixer } from './log-prefix.ts';
import { stripAnsi } from './output.ts';

const frame = (service: string, replica: number, text: string) => ({ service, replica, container: 'c', stream: 'stdout' as const, time: 0, text });

test('plain prefixes align to the widest name seen', () => {
  const p = new LogPrefixer({ color: false, services: ['web', 'worker'] });
  assert.equal(p.format(frame('web', 1, 'hi\n'), { timestamps: false }), 'web-1    | hi\n');
  assert.equal(p.format(frame('worker', 2, 'yo'), { timestamps: false }), 'worker-2 | yo\n');
  assert.equal(p.format(frame('web', 1, 'x'), { timestamps: true }), 'web-1    | 1970-01-01T00:00:00.000Z x\n');
});

test('colour is stable per service and only decorates', () => {
  const a = new LogPrefixer({ color: true });
  const b = new LogPrefixer({ color: true });
  const one = a.prefix('api', 1);
  assert.equal(one, b.prefix('api', 1));
  assert.match(one, /\u001b\[\d+m/);
  assert.equal(stripAnsi(one), 'api-1 | ');
  assert.equal(a.prefix('api', 2).slice(0, 5), one.slice(0, 5), 'replicas share the service colour');
});
