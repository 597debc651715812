import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaTableRow, ServiceTableRow } from '../../daemon/api/control.ts';
import { formatPorts, readiness, replicaHealth } from './services.ts';

function replica(n: number, over: Partial<ReplicaTableRow> = {}): ReplicaTableRow {
  return {
    id: `svc#${n}`,
    replica: n,
    container: `c${n}`,
    state: 'running',
    endpoint: null,
    endpoints: [],
    weight: 1,
    draining: false,
    health: { active: 'unknown', passive: 'ok', ejections: 0 },
    routable: false,
    inFlight: 0,
    latency: { ewmaMs: null, p50Ms: null, p95Ms: null, p99Ms: null },
    requests: 0,
    errors: 0,
    errorRate: 0,
    requestsPerSec: 0,
    ...over,
  };
}

function service(replicas: ReplicaTableRow[], over: Partial<ServiceTableRow> = {}): ServiceTableRow {
  return {
    project: 'p',
    service: 'svc',
    strategy: 'p2c',
    protocol: 'http',
    desired: 2,
    ready: 0,
    total: replicas.length,
    draining: 0,
    panic: false,
    publishedPorts: [],
    replicas,
    ...over,
  };
}

test('a service without ports reads as running replicas, not routed, never "starting"', () => {
  const worker = service([replica(1), replica(2, { state: 'exited' })]);
  assert.deepEqual(readiness(worker), { text: '1/2 running (not routed)', ok: false });
  assert.deepEqual(readiness(service([replica(1), replica(2)])), { text: '2/2 running (not routed)', ok: true });
  assert.equal(replicaHealth(worker.replicas[0]!, false), 'running');
  assert.equal(replicaHealth(worker.replicas[1]!, false), 'exited');
});

test('a routed service reads as replicas ready in the mesh, with panic shown', () => {
  const ports = [{ published: 8080, target: 3000, hostIp: '127.0.0.1', protocol: 'tcp' as const }];
  const web = service([replica(1, { health: { active: 'healthy', passive: 'ok', ejections: 0 } }), replica(2)], { publishedPorts: ports, ready: 1 });
  assert.deepEqual(readiness(web), { text: '1/2', ok: false });
  assert.deepEqual(readiness({ ...web, ready: 2, panic: true }), { text: '2/2 (panic)', ok: false });
  assert.equal(replicaHealth(web.replicas[0]!, true), 'healthy');
  assert.equal(replicaHealth(web.replicas[1]!, true), 'starting');
  assert.equal(replicaHealth({ ...web.replicas[1]!, draining: true }, true), 'draining');
});

test('PORTS: published ports, then the east-west ports callers reach the service on by name (also the dash column)', () => {
  const ports = [{ published: 8080, target: 3000, hostIp: '127.0.0.1', protocol: 'tcp' as const }];
  assert.equal(formatPorts(service([], { publishedPorts: ports })), '127.0.0.1:8080->3000');
  const dns = [...ports, { published: 5353, target: 53, hostIp: '0.0.0.0', protocol: 'udp' as const }];
  assert.equal(formatPorts(service([], { publishedPorts: dns })), '127.0.0.1:8080->3000, 0.0.0.0:5353->53/udp');
  const eastWest = { ports: [{ port: 3000, protocol: 'http' as const }, { port: 9229, protocol: 'tcp' as const }], ready: 2, reportedAt: 1 };
  assert.equal(formatPorts(service([], { publishedPorts: ports, eastWest })), '127.0.0.1:8080->3000, ew:3000/http, ew:9229/tcp');
  assert.equal(formatPorts(service([])), '-');
});
