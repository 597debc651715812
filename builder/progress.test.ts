// Build progress rendering: plain lines for pipes, one redrawn line per service on a TTY, NO_COLOR honoured.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildProgressWriter, type BuildEvent, colorEnabled, formatPlainLine, formatTtyLine } from './progress.ts';

const ev = (service: string, phase: BuildEvent['phase'], extra: Partial<BuildEvent> = {}): BuildEvent => ({
  type: 'build',
  time: 0,
  project: 'p',
  service,
  phase,
  ...extra,
});

test('plain lines mirror the classic builder', () => {
  assert.equal(formatPlainLine(ev('web', 'step', { step: 3, total: 7, text: 'RUN npm ci' })), 'web | Step 3/7 : RUN npm ci');
  assert.equal(formatPlainLine(ev('web', 'failed', { text: 'build failed\nat step 3' }), 6), 'web    | FAILED: build failed at step 3');
});

test('TTY lines: [step/total], padding, truncation to the terminal width, colour only when allowed', () => {
  const p = { phase: 'step' as const, step: 3, total: 7, text: 'RUN npm ci' };
  assert.equal(formatTtyLine('web', 3, p, false), 'web  [3/7] RUN npm ci');
  assert.equal(formatTtyLine('web', 5, { phase: 'done', text: 'built' }, false), 'web    ✔ built');
  const cut = formatTtyLine('web', 3, { ...p, text: 'RUN a-very-long-command --with --many --flags' }, true, 20);
  assert.equal(cut.length, 20);
  assert.ok(!cut.includes('\u001b'), 'a truncated line is repainted plain, never cut inside an escape');
  assert.match(formatTtyLine('web', 3, p, true), /\u001b\[/);
  assert.equal(colorEnabled({ NO_COLOR: '1' }, true), false);
  assert.equal(colorEnabled({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(colorEnabled({}, false), false);
});

function sink(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, columns: 80, write: (s: string) => (text += s) }, text: () => text };
}

test('writer on a pipe: one plain line per event, aligned, no escapes', () => {
  const s = sink(false);
  const w = new BuildProgressWriter(s.out, { env: {}, services: ['web', 'worker'] });
  w.handle(ev('web', 'step', { step: 1, total: 2, text: 'FROM x' }));
  w.handle({ type: 'project', time: 0, project: 'p', action: 'up' });
  w.handle(ev('worker', 'done', { text: 'built' }));
  assert.equal(s.text(), 'web    | Step 1/2 : FROM x\nworker | built\n');
});

test('writer on a TTY redraws one line per service in place; NO_COLOR removes colour', () => {
  const s = sink(true);
  const w = new BuildProgressWriter(s.out, { env: { NO_COLOR: '1' } });
  w.handle(ev('web', 'step', { step: 1, total: 2, text: 'FROM x' }));
  w.handle(ev('api', 'step', { step: 1, total: 3, text: 'FROM y' }));
  w.handle(ev('web', 'step', { step: 2, total: 2, text: 'COPY . /' }));
  w.close();
  const frames = s.text();
  assert.ok(!/\u001b\[[0-9;]*m/.test(frames), 'no SGR colour codes with NO_COLOR');
  // The last frame moves up over the two lines drawn before and rewrites both.
  const last = frames.slice(frames.lastIndexOf('\u001b[2A'));
  assert.equal(last, '\u001b[2A\r\u001b[2Kweb  [2/2] COPY . /\n\r\u001b[2Kapi  [1/3] FROM y\n');
});
