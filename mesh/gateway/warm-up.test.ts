import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaTableRow, ServiceTableRow } from '../../daemon/api/service-table.ts';
import { coldServices, warmedUp } from './warm-up.ts';

const replica = (over: Partial<ReplicaTableRow>): ReplicaTableRow =>
  ({ state: 'running', endpoints: [{ containerPort: 80, protocol: 'tcp', host: '10.0.0.2', hostPort: 80 }], draining: false, routable: false, ...over }) as ReplicaTableRow;
const service = (name: string, replicas: ReplicaTableRow[]): ServiceTableRow => ({ service: name, replicas }) as ServiceTableRow;

describe('gateway worker warm-up', () => {
  it('a service with a serving replica and nothing routable is cold; routable or nothing to serve is not', () => {
    const rows = [
      service('cold', [replica({}), replica({ routable: false })]),
      service('warm', [replica({}), replica({ routable: true })]),
      service('no-address', [replica({ endpoints: [] })]),
      service('exited', [replica({ state: 'exited' })]),
      service('draining-only', [replica({ draining: true })]),
      service('empty', []),
    ];
    assert.deepEqual(coldServices(rows), ['cold']);
  });

  it('waits until the replica turns routable, then resolves with nothing cold', async () => {
    let rows = [service('web', [replica({})])];
    setTimeout(() => {
      rows = [service('web', [replica({ routable: true })])];
    }, 60);
    const started = Date.now();
    assert.deepEqual(await warmedUp(() => rows, new AbortController().signal, 5000), []);
    assert.ok(Date.now() - started >= 50, 'it did not resolve before the replica rose');
  });

  it('gives up at its bound and names what stayed cold', async () => {
    const rows = [service('web', [replica({})])];
    assert.deepEqual(await warmedUp(() => rows, new AbortController().signal, 50), ['web']);
  });
});
