// The pull renderer: plain output prints one line per image when its pull ends; a TTY redraws one line per service.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PullEvent, PullProgressWriter } from './pull-progress.ts';

const ev = (service: string, phase: PullEvent['phase'], text?: string): PullEvent => ({
  type: 'pull',
  time: 0,
  project: 'p',
  service,
  image: `reg/${service}:1`,
  phase,
  ...(text ? { text } : {}),
});

function sink(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, columns: 80, write: (s: string) => (text += s) }, text: () => text };
}

test('plain: one line per image, at its end; progress and start lines are left out', () => {
  const s = sink(false);
  const w = new PullProgressWriter(s.out, { env: {} });
  w.handle(ev('db', 'start', 'pulling reg/db:1'));
  w.handle(ev('db', 'progress', '1/2 layers'));
  w.handle(ev('cache', 'skipped', 'pull_policy: never'));
  w.handle(ev('db', 'done', 'pulled reg/db:1 in 0.2s'));
  w.handle(ev('api', 'failed', 'service "api": image reg/api:1 was not found'));
  assert.deepEqual(s.text().trimEnd().split('\n'), [
    'cache  - skipped reg/cache:1: pull_policy: never',
    'db     ✔ pulled reg/db:1 in 0.2s',
    'api    ✘ service "api": image reg/api:1 was not found',
  ]);
});

test('TTY: the service lines are redrawn in place; -q prints nothing', () => {
  const s = sink(true);
  const w = new PullProgressWriter(s.out, { env: { NO_COLOR: '1' } });
  w.handle(ev('db', 'start', 'pulling reg/db:1'));
  w.handle(ev('db', 'progress', '1/2 layers, 0.5/1.0 MB'));
  w.handle(ev('db', 'done', 'pulled'));
  assert.equal((s.text().match(/\u001b\[1A/g) ?? []).length, 2, 'moved up over its one line twice');
  assert.match(s.text(), /db {2}… reg\/db:1 {2}1\/2 layers, 0\.5\/1\.0 MB/);
  assert.match(s.text(), /db {2}✔ pulled\n$/);
  const q = sink(true);
  const quiet = new PullProgressWriter(q.out, { env: {}, quiet: true });
  quiet.handle(ev('db', 'done', 'pulled'));
  assert.equal(q.text(), '');
});
