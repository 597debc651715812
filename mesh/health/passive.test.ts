// Passive ejection rules with an injected clock: immediate on connect errors, 5×5xx, backoff, cap, rise to return.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassiveHealth, type PassiveTransition } from './passive.ts';

function setup(n = 4, opts: { rise?: number } = {}) {
  const clock = { t: 1_000_000 };
  const seen: PassiveTransition[] = [];
  const p = new PassiveHealth({ now: () => clock.t, rise: opts.rise ?? 2 }, (t) => seen.push(t));
  p.setMembers(Array.from({ length: n }, (_, i) => `m${i + 1}`));
  return { p, clock, seen };
}

describe('passive health', () => {
  it('ejects at once on a connect error or a reset', () => {
    const { p, seen } = setup();
    p.record('m1', 'connect-error');
    p.record('m2', 'reset');
    assert.equal(p.state('m1'), 'ejected');
    assert.equal(p.state('m2'), 'ejected');
    assert.deepEqual(
      seen.map((t) => [t.id, t.state, t.reason]),
      [
        ['m1', 'ejected', 'connect-error'],
        ['m2', 'ejected', 'reset'],
      ],
    );
  });

  it('ejects after 5 consecutive 5xx; a success in between resets the count', () => {
    const { p } = setup();
    for (let i = 0; i < 4; i++) p.record('m1', 'http-5xx');
    p.record('m1', 'ok');
    for (let i = 0; i < 4; i++) p.record('m1', 'http-5xx');
    assert.equal(p.state('m1'), 'ok');
    p.record('m1', 'http-5xx');
    assert.equal(p.state('m1'), 'ejected');
  });

  it('ejection time is 1 s × ejections of that member, capped at 60 s', () => {
    const { p, clock } = setup(2, { rise: 1 });
    const durations: number[] = [];
    for (let n = 1; n <= 70; n++) {
      p.record('m1', 'connect-error');
      const info = p.info('m1');
      assert.equal(info.state, 'ejected');
      durations.push(info.untilMs! - clock.t);
      // Still ejected 1 ms before the end, probing at the end, back after one passing probe.
      clock.t = info.untilMs! - 1;
      assert.equal(p.state('m1'), 'ejected');
      clock.t += 1;
      assert.equal(p.state('m1'), 'probing');
      p.onProbe('m1', true);
      assert.equal(p.state('m1'), 'ok');
    }
    assert.deepEqual(durations.slice(0, 3), [1000, 2000, 3000]);
    assert.equal(durations[59], 60_000);
    assert.equal(durations[69], 60_000);
  });

  it('forgives earlier ejections after a long good run', () => {
    const { p, clock } = setup(2, { rise: 1 });
    p.record('m1', 'connect-error');
    clock.t += 1000;
    p.onProbe('m1', true);
    clock.t += 60_000;
    p.record('m1', 'connect-error');
    assert.equal(p.info('m1').ejections, 1);
  });

  it('never ejects more than 50 % of the members', () => {
    const { p } = setup(4);
    for (const id of ['m1', 'm2', 'm3', 'm4']) p.record(id, 'connect-error');
    assert.deepEqual(
      ['m1', 'm2', 'm3', 'm4'].map((id) => p.state(id)),
      ['ejected', 'ejected', 'ok', 'ok'],
    );
    assert.equal(p.outCount(), 2);
    // A single-member service is never ejected passively: there is nowhere else to send traffic.
    const single = setup(1);
    single.p.record('m1', 'connect-error');
    assert.equal(single.p.state('m1'), 'ok');
  });

  it('probing members still count against the cap', () => {
    const { p, clock } = setup(2);
    p.record('m1', 'connect-error');
    clock.t += 1000;
    assert.equal(p.state('m1'), 'probing');
    p.record('m2', 'connect-error');
    assert.equal(p.state('m2'), 'ok');
  });

  it('needs `rise` consecutive passing probes after the ejection time, not before', () => {
    const { p, clock, seen } = setup(2, { rise: 2 });
    p.record('m1', 'connect-error');
    // Probes during the ejection time do not count.
    p.onProbe('m1', true);
    p.onProbe('m1', true);
    clock.t += 1000;
    assert.equal(p.state('m1'), 'probing');
    p.onProbe('m1', true);
    p.onProbe('m1', false);
    p.onProbe('m1', true);
    assert.equal(p.state('m1'), 'probing');
    p.onProbe('m1', true);
    assert.equal(p.state('m1'), 'ok');
    assert.deepEqual(
      seen.map((t) => [t.state, t.ejected]),
      [
        ['ejected', true],
        ['probing', true],
        ['ok', false],
      ],
    );
  });

  it('a failure while probing ejects again for longer', () => {
    const { p, clock } = setup(2);
    p.record('m1', 'connect-error');
    clock.t += 1000;
    p.record('m1', 'reset');
    const info = p.info('m1');
    assert.equal(info.state, 'ejected');
    assert.equal(info.untilMs! - clock.t, 2000);
  });

  it('timeouts count like 5xx; forgotten members are ignored', () => {
    const { p } = setup(2);
    for (let i = 0; i < 5; i++) p.record('m1', 'timeout');
    assert.equal(p.state('m1'), 'ejected');
    p.setMembers(['m2']);
    p.record('m1', 'connect-error');
    assert.equal(p.state('m1'), 'ok');
  });
});
