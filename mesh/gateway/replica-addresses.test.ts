// Where the gateway reaches a replica: the address the daemon's table gives, with no DNS lookup now or at a refresh;
// Docker DNS only for a replica the table gives none (an engine that publishes replicas on loopback).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayTable, gatewayTableSchema, parseGatewayLine } from '../../daemon/api/gateway-control.ts';
import { httpService } from './gateway-test-kit.ts';
import { ReplicaAddresses } from './replica-addresses.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function table(addresses: { a?: string; b?: string }): GatewayTable {
  const web = httpService('web', 3000, A);
  const replica = (n: number, container: string, address: string | undefined) => ({
    id: `web#${n}`, replica: n, container, state: 'running' as const, draining: false, healthy: true,
    ...(address === undefined ? {} : { address }),
  });
  return { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services: [{ ...web, replicas: [replica(1, A, addresses.a), replica(2, B, addresses.b)] }] };
}

function counting(): { resolve: (container: string) => Promise<string>; asked: string[] } {
  const asked: string[] = [];
  const resolve = async (container: string): Promise<string> => {
    asked.push(container);
    return `10.9.9.${asked.length}`;
  };
  return { asked, resolve };
}

test('a replica the table gives an address is reached there, and never looked up, not even by a full refresh', async () => {
  const dns = counting();
  const addresses = new ReplicaAddresses(dns.resolve, new Map());
  await addresses.refresh(table({ a: '172.18.0.5', b: '172.18.0.6' }), false);
  await addresses.refresh(table({ a: '172.18.0.5', b: '172.18.0.6' }), true);
  assert.equal(addresses.get(A), '172.18.0.5');
  assert.equal(addresses.get(B), '172.18.0.6');
  assert.deepEqual(dns.asked, []);
});

test('a moved address in the next table is taken at once; a replica without one is resolved as before', async () => {
  const dns = counting();
  const addresses = new ReplicaAddresses(dns.resolve, new Map());
  await addresses.refresh(table({ a: '172.18.0.5' }), false);
  assert.deepEqual(dns.asked, [B]);
  assert.equal(addresses.get(B), '10.9.9.1');
  await addresses.refresh(table({ a: '172.18.0.9' }), false);
  assert.equal(addresses.get(A), '172.18.0.9');
  // Known already: not looked up again until a full refresh.
  assert.deepEqual(dns.asked, [B]);
  await addresses.refresh(table({ a: '172.18.0.9' }), true);
  assert.deepEqual(dns.asked, [B, B]);
});

test('the table schema takes an IPv4 or IPv6 address and refuses anything else', () => {
  const parse = (address: string) => parseGatewayLine(JSON.stringify(table({ a: address })), gatewayTableSchema);
  assert.equal(parse('172.18.0.5')?.services[0]?.replicas[0]?.address, '172.18.0.5');
  assert.equal(parse('fd00::5')?.services[0]?.replicas[0]?.address, 'fd00::5');
  assert.equal(parse('api.example'), undefined);
});
