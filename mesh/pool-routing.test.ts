// The pool's routing decision as a table: who is serving, who is healthy, and when panic widens the routable set.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PortMapping } from '../daemon/api/project.ts';
import type { PassiveState } from './health/passive.ts';
import { isHealthy, isServing, routing } from './pool-routing.ts';
import { newEntry, type ReplicaEntry } from './replica-entry.ts';
import { ReplicaStats } from './replica-stats.ts';

const ports: PortMapping[] = [{ target: 80, published: 8080, protocol: 'tcp' }];
const tcp = (hostPort: number) => ({ containerPort: 80, protocol: 'tcp' as const, host: '127.0.0.1', hostPort });

function entry(n: number, patch: Partial<ReplicaEntry> = {}): ReplicaEntry {
  const r = newEntry(`web#${n}`, { replica: n, container: `c${n}`, endpoints: [tcp(41000 + n)], state: 'running' }, new ReplicaStats(() => 0));
  return Object.assign(r, patch);
}

const passiveOf = (states: Record<string, PassiveState>) => ({ state: (id: string) => states[id] ?? 'ok' });
const healthy = { active: 'healthy' as const, everHealthy: true };

describe('pool routing', () => {
  it('serving needs running, not draining, and an endpoint for the published port (or UDP-only)', () => {
    assert.equal(isServing(entry(1), ports), true);
    assert.equal(isServing(entry(1, { draining: true }), ports), false);
    assert.equal(isServing(entry(1, { state: 'exited' }), ports), false);
    assert.equal(isServing(entry(1, { endpoints: [] }), ports), false);
    const udpOnly = entry(1, { endpoints: [{ containerPort: 53, protocol: 'udp', host: '127.0.0.1', hostPort: 41053 }] });
    assert.equal(isServing(udpOnly, ports), true);
  });

  it('healthy needs active health only when the pool is probed, and passive ok always', () => {
    assert.equal(isHealthy(entry(1), ports, true, 'ok'), false);
    assert.equal(isHealthy(entry(1), ports, false, 'ok'), true);
    assert.equal(isHealthy(entry(1, healthy), ports, true, 'ok'), true);
    assert.equal(isHealthy(entry(1, healthy), ports, true, 'ejected'), false);
    assert.equal(isHealthy(entry(1, { ...healthy, draining: true }), ports, true, 'ok'), false);
  });

  const table: Array<{ name: string; replicas: ReplicaEntry[]; passive?: Record<string, PassiveState>; panic: boolean; routable: string[] }> = [
    { name: 'all healthy', replicas: [entry(1, healthy), entry(2, healthy)], panic: false, routable: ['web#1', 'web#2'] },
    { name: 'one of two ejected: 50 % is not below 50 %', replicas: [entry(1, healthy), entry(2, healthy)], passive: { 'web#2': 'ejected' }, panic: false, routable: ['web#1'] },
    {
      name: 'two of three ejected: panic routes every warmed-up replica',
      replicas: [entry(1, healthy), entry(2, healthy), entry(3, healthy)],
      passive: { 'web#2': 'ejected', 'web#3': 'probing' },
      panic: true,
      routable: ['web#1', 'web#2', 'web#3'],
    },
    { name: 'warming replicas do not count for panic', replicas: [entry(1, healthy), entry(2), entry(3)], panic: false, routable: ['web#1'] },
    { name: 'nothing warmed: no panic, nothing routable', replicas: [entry(1), entry(2)], panic: false, routable: [] },
    { name: 'a draining replica is never routable', replicas: [entry(1, healthy), entry(2, { ...healthy, draining: true })], panic: false, routable: ['web#1'] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const got = routing(row.replicas, ports, true, passiveOf(row.passive ?? {}), 50);
      assert.deepEqual({ panic: got.panic, routable: [...got.routable].sort() }, { panic: row.panic, routable: row.routable });
    });
  }

  it('without active checks every serving replica is warmed and healthy', () => {
    const got = routing([entry(1), entry(2)], ports, false, passiveOf({ 'web#1': 'ejected' }), 50);
    assert.deepEqual({ panic: got.panic, routable: [...got.routable].sort() }, { panic: false, routable: ['web#2'] });
  });
});
