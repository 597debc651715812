// Supervisor and backoff: restart policies, 1 s doubling capped at 5 min, reset after 10 min of running.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInfo } from '../api/engine.ts';
import { backoffDelay, PASS_BACKOFF } from './backoff.ts';
import { decideRestart, replicaKey, restartRule, Supervisor } from './supervisor.ts';

const T0 = 1_000_000;
function exited(code: number, ranMs = 2_000, finishedAt = T0): ContainerInfo {
  return {
    id: 'c1',
    name: 'p-web-1',
    image: 'img',
    state: 'exited',
    health: 'none',
    labels: {},
    createdAt: 0,
    startedAt: finishedAt - ranMs,
    finishedAt,
    exitCode: code,
    restartCount: 0,
    endpoints: [],
  };
}

test('backoff doubles from 1 s and caps at 300 s', () => {
  const delays = Array.from({ length: 12 }, (_, i) => backoffDelay(i));
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]);
  assert.equal(backoffDelay(10_000), 300_000);
  assert.equal(backoffDelay(-3), 1_000);
  assert.equal(backoffDelay(9, PASS_BACKOFF), 30_000);
});

test('a crash-looping replica backs off 1 s, 2 s, 4 s … after each exit', () => {
  let now = T0;
  const sup = new Supervisor({ now: () => now });
  const key = replicaKey('web', 1);
  const seen: number[] = [];
  for (let i = 0; i < 11; i++) {
    const d = sup.decide(key, { policy: 'always' }, exited(1, 500, now));
    assert.equal(d.kind, 'restart');
    if (d.kind !== 'restart') return;
    assert.equal(d.attempt, i + 1);
    seen.push(d.delayMs);
    now = d.notBefore;
    sup.recordRestart(key);
  }
  assert.deepEqual(seen.slice(0, 4), [1_000, 2_000, 4_000, 8_000]);
  assert.equal(seen.at(-1), 300_000);
  assert.equal(sup.restarts(key), 11);
});

test('ten minutes of running resets the backoff, but not the restart count', () => {
  let now = T0;
  const sup = new Supervisor({ now: () => now });
  const key = replicaKey('web', 1);
  for (let i = 0; i < 5; i++) sup.recordRestart(key);
  // Seen running for 9 minutes: still in backoff.
  sup.observeRunning(key, now - 540_000);
  assert.equal(sup.view().replicas[key]?.attempts, 5);
  now += 60_000;
  sup.observeRunning(key, now - 600_000);
  assert.equal(sup.view().replicas[key]?.attempts, 0);
  assert.equal(sup.restarts(key), 5);
  // Without an observation in between, a long run before the exit resets too.
  for (let i = 0; i < 5; i++) sup.recordRestart(key);
  const d = sup.decide(key, { policy: 'always' }, exited(1, 700_000, now));
  assert.equal(d.kind === 'restart' && d.delayMs, 1_000);
});

test('restart policies', () => {
  const none = undefined;
  assert.equal(decideRestart({ policy: 'no' }, exited(1), none, T0).kind, 'none');
  assert.equal(decideRestart({ policy: 'no' }, exited(0), none, T0).kind, 'none');
  assert.equal(decideRestart({ policy: 'on-failure' }, exited(0), none, T0).kind, 'none');
  assert.equal(decideRestart({ policy: 'on-failure' }, exited(2), none, T0).kind, 'restart');
  assert.equal(decideRestart({ policy: 'always' }, exited(0), none, T0).kind, 'restart');
  assert.equal(decideRestart({ policy: 'unless-stopped' }, exited(0), none, T0).kind, 'restart');
  // on-failure:3 allows three restarts, then gives up.
  const rule = { policy: 'on-failure' as const, maxRetries: 3 };
  assert.equal(decideRestart(rule, exited(1), { attempts: 2, total: 2 }, T0).kind, 'restart');
  const giveUp = decideRestart(rule, exited(1), { attempts: 3, total: 3 }, T0);
  assert.equal(giveUp.kind, 'give-up');
  assert.match(giveUp.reason, /on-failure:3/);
});

test('an unhealthy replica is restarted with backoff counted from the last restart', () => {
  const c: ContainerInfo = { ...exited(0), state: 'running', health: 'unhealthy', startedAt: T0 - 5_000 };
  delete c.finishedAt;
  const first = decideRestart({ policy: 'always' }, c, undefined, T0);
  assert.deepEqual(first.kind === 'restart' && [first.attempt, first.notBefore], [1, T0 - 4_000]);
  const again = decideRestart({ policy: 'always' }, c, { attempts: 2, total: 2, lastRestartAt: T0 - 1_000 }, T0);
  assert.deepEqual(again.kind === 'restart' && [again.attempt, again.notBefore], [3, T0 + 3_000]);
  assert.equal(decideRestart({ policy: 'no' }, c, undefined, T0).kind, 'none');
});

test('forget clears history; view is a copy', () => {
  const sup = new Supervisor({ now: () => T0 });
  sup.recordRestart('a#1');
  const view = sup.view();
  sup.recordRestart('a#1');
  assert.equal(view.replicas['a#1']?.attempts, 1);
  sup.forget('a#1');
  assert.equal(sup.restarts('a#1'), 0);
});

test('deploy.restart_policy: max_attempts limits `any` too, delay replaces the backoff, window resets the count', () => {
  const rule = restartRule({ restart: 'always', restartMaxRetries: 2, restartDelayMs: 5_000, restartWindowMs: 30_000 });
  assert.deepEqual(rule, { policy: 'always', maxRetries: 2, delayMs: 5_000, windowMs: 30_000 });
  const entry = (attempts: number) => ({ attempts, total: attempts });
  assert.deepEqual(decideRestart(rule, exited(0), entry(1), T0), { kind: 'restart', attempt: 2, delayMs: 5_000, notBefore: T0 + 5_000, reason: 'exited with code 0' });
  const giveUp = decideRestart(rule, exited(1), entry(2), T0);
  assert.deepEqual(giveUp, { kind: 'give-up', reason: 'exited with code 1, gave up after 2 restarts (max_attempts 2)' });
  // Ran 40 s > window 30 s: a fresh failure, not the third attempt.
  assert.equal(decideRestart(rule, exited(1, 40_000), entry(2), T0).kind, 'restart');
  assert.deepEqual(restartRule(undefined), { policy: 'no' });
  // The window also resets a replica that keeps running.
  let now = T0;
  const sup = new Supervisor({ now: () => now });
  const key = replicaKey('web', 1);
  sup.recordRestart(key);
  now += 31_000;
  sup.observeRunning(key, T0, 30_000);
  assert.equal(sup.view().replicas[key]?.attempts, 0);
});
