import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaTableRow, ServiceTableRow } from '../../daemon/api/control.ts';
import { replicaRow } from '../../test/helpers/service-table-rows.ts';
import { createColors } from '../output.ts';
import { breakerMarker, formatPorts, formatServiceTable, readiness, replicaHealth } from './services.ts';

/** A replica row as a fresh pool reports it: not probed yet, no traffic. */
const replica = (n: number, over: Partial<ReplicaTableRow> = {}): ReplicaTableRow =>
  replicaRow(n, {
    id: `svc#${n}`,
    endpoint: null,
    health: { active: 'unknown', passive: 'ok', ejections: 0 },
    routable: false,
    inFlight: 0,
    latency: { ewmaMs: null, p50Ms: null, p95Ms: null, p99Ms: null },
    requests: 0,
    errors: 0,
    errorRate: 0,
    requestsPerSec: 0,
    ...over,
  });

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
  assert.equal(formatPorts(service([], { publishedPorts: ports, protocol: 'grpc' })), '127.0.0.1:8080->3000/grpc');
  assert.equal(formatPorts(service([], { publishedPorts: ports, protocol: 'h2c' })), '127.0.0.1:8080->3000/h2c');
});

test('the breaker marker shows each configured bound as now/limit, then what it refused', () => {
  const overflow = { requests: 0, pending: 0, connections: 0 };
  const b = { limits: { maxRequests: 256, maxPending: 64, maxConnections: 512 }, requests: 3, pending: 1, connections: 2, overflow };
  assert.equal(breakerMarker(service([], { breaker: b })), 'req 3/256 pend 1/64 conn 2/512');
  const refused = { ...b, overflow: { requests: 4, pending: 0, connections: 1 } };
  assert.equal(breakerMarker(service([], { breaker: refused })), 'req 3/256 pend 1/64 conn 2/512 overflow 5');
  assert.equal(breakerMarker(service([], { breaker: { ...b, limits: { maxConnections: 2 } } })), 'conn 2/2');
  // No limits left (an edited file removed them) but it refused requests before: only the overflow count.
  assert.equal(breakerMarker(service([], { breaker: { ...refused, limits: {} } })), 'overflow 5');
  assert.equal(breakerMarker(service([], { breaker: { ...b, limits: {} } })), '-');
  assert.equal(breakerMarker(service([])), '');
});

test('the text table has a BREAKER column only when a service has a breaker', () => {
  const c = createColors(false);
  const plain = formatServiceTable([service([replica(1)])], c);
  assert.doesNotMatch(plain, /BREAKER/);
  const breaker = { limits: { maxConnections: 2 }, requests: 0, pending: 0, connections: 2, overflow: { requests: 0, pending: 0, connections: 1 } };
  const text = formatServiceTable([service([replica(1)], { breaker }), service([], { service: 'other' })], c);
  const [header, api, , other] = text.split('\n');
  assert.match(header!, /^SERVICE\s+PORTS\s+LB\s+READY\s+BREAKER\s+ENDPOINT/);
  const col = header!.indexOf('BREAKER');
  assert.equal(api!.slice(col).split(/\s{3,}/)[0], 'conn 2/2 overflow 1');
  assert.equal(other!.slice(col).trim(), '');
  assert.match(formatServiceTable([service([], { breaker })], createColors(true)), /\u001b\[33mconn 2\/2 overflow 1\u001b\[39m/);
});
