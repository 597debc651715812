import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import { App } from './App.tsx';
import { handleKey } from './keys.ts';
import { type Action, type DashState, initialState, reduce } from './state.ts';
import { info, psRows, serviceRow, T0 } from './test-fixtures.ts';

const web = serviceRow('web', 3);
const base = (...more: Action[]): DashState =>
  [
    { type: 'info', info } as Action,
    { type: 'snapshot', time: T0, services: [web], ps: psRows(web) } as Action,
    ...more,
  ].reduce(reduce, initialState('shop'));

function frame(state: DashState, width = 100, height = 30, color = false): string[] {
  const r = render(<App state={state} width={width} height={height} color={color} />);
  const out = r.lastFrame() ?? '';
  r.unmount();
  return out.split('\n');
}

const press = (state: DashState, input: string, key = {}): DashState => handleKey(state, input, key).actions.reduce(reduce, state);

test('header and a services table with 3 replicas: ready, health, strategy, published port', () => {
  const lines = frame(base());
  assert.match(lines[0]!, /^cmesh dash · connected · project shop · daemon pid 4242 v0\.1\.0 · engine ok 27\.3\.1$/);
  const row = lines.find((l) => l.includes('web'))!;
  assert.match(row, /^> web\s+3\/3\s+healthy\s+round-robin\s+127\.0\.0\.1:8080->3000/);
  assert.ok(lines.some((l) => /^── logs web ─+$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('(quiet)')));
  assert.match(lines.at(-1)!, /↑↓ select .* q quit/);
});

test('expanded replicas: state, health, uptime, restarts, in-flight, RPS, p50/p95, error rate and sparklines', () => {
  let s = press(base(), '', { return: true });
  for (let i = 1; i <= 5; i++) {
    const services = [serviceRow('web', 3, { replicas: web.replicas.map((r) => ({ ...r, requestsPerSec: i * r.replica })) })];
    s = reduce(s, { type: 'snapshot', time: T0 + i * 1000, services, ps: psRows(web) });
  }
  s = press(s, '', { downArrow: true });
  s = press(s, '', { downArrow: true });
  const lines = frame(s);
  const header = lines.find((l) => l.includes('REPLICA'))!;
  assert.match(header, /REPLICA\s+STATE\s+HEALTH\s+UP\s+RST\s+INFL\s+RPS\s+P50\/P95\s+ERR RPS 60s\s+P95 60s/);
  const r2 = lines.find((l) => l.includes('web-2'))!;
  assert.match(r2, /^>\s+web-2\s+running\s+healthy\s+2m10s\s+1\s+2\s+10\.0\s+2\.5\/12\s+1\.0%\s/);
  assert.match(r2, /█▂▂▃▄▅ +██████$/, 'rps: 20 at first, then rising 2..10; p95: flat 12');
  assert.ok(lines.some((l) => /^── logs web-2 ─/.test(l)), 'the log pane follows the selected replica');
});

test('80×24: every line fits, the frame is shorter than the terminal, the replica row keeps its sparkline', () => {
  const s = press(base(), '', { return: true });
  const lines = frame(s, 80, 24);
  assert.ok(lines.length <= 23, `${lines.length} lines`);
  for (const l of lines) assert.ok(l.length <= 80, `too wide (${l.length}): ${l}`);
  assert.match(lines.find((l) => l.includes('web-3'))!, /web-3\s+running\s+healthy .*1\.0%\s+ {11}.$/);
  assert.ok(lines.some((l) => l.includes('── events')));
});

test('help overlay lists the keys', () => {
  const lines = frame(press(base(), '?'));
  const text = lines.join('\n');
  for (const key of ['↑/↓', 'enter', '+ / -', 'kill the selected replica', 'drain / undrain', 'rebuild', 'filter', 'quit']) assert.ok(text.includes(key), key);
  assert.ok(!text.includes('── logs'), 'the overlay replaces the panes');
});

test('reconnecting header, confirmation prompt and inline error', () => {
  const s = base({ type: 'connection', state: 'reconnecting', error: 'ECONNREFUSED' });
  assert.match(frame(s)[0]!, /^cmesh dash · reconnecting… · project shop/);
  let k = press(press(base(), '', { return: true }), '', { downArrow: true });
  k = press(k, 'k');
  assert.match(frame(k).at(-1)!, /^kill web-1\? \(SIGKILL; a new replica replaces it\) {2}\[y\/n\]/);
  const err = base({ type: 'result', ok: false, text: 'no replica web-9 in project "shop"' });
  assert.equal(frame(err).at(-1), '✗ no replica web-9 in project "shop"');
});

test('unknown project: an error screen with the fix', () => {
  const s = base({ type: 'fatal', message: 'no project "nope" is known to the daemon', hint: 'start it first with `cmesh up -d`' });
  const text = frame(s, 80, 24).join('\n');
  assert.match(text, /no project "nope" is known to the daemon/);
  assert.match(text, /fix: start it first with `cmesh up -d`/);
  assert.ok(!text.includes('SERVICE'));
});

test('NO_COLOR: no escape codes, and the selection still shows (a `>` mark, not only inverse video)', () => {
  const lines = frame(base(), 100, 30, false);
  assert.ok(!lines.join('\n').includes('\u001b['));
  assert.match(lines.find((l) => l.includes('web'))!, /^> web/);
});

test('a replica healthy by cmesh’s start probe while Docker still says starting is marked healthy*', () => {
  const ps = psRows(web).map((r) => (r.replica === 1 ? { ...r, health: 'healthy' as const, engineHealth: 'starting' as const } : r));
  const s = press([{ type: 'info', info } as Action, { type: 'snapshot', time: T0, services: [web], ps } as Action].reduce(reduce, initialState('shop')), '', { return: true });
  const lines = frame(s);
  assert.match(lines.find((l) => l.includes('web-1'))!, /web-1\s+running\s+healthy\*\s/);
  assert.match(lines.find((l) => l.includes('web-2'))!, /web-2\s+running\s+healthy\s/);
  assert.ok(frame(press(s, '?')).join('\n').includes('health*'), 'the help says what the mark means');
});
