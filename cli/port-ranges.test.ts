// Port ranges print as Docker prints them: one `8000-8002->3000-3002` entry, never only the first port.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceTableRow } from '../daemon/api/control.ts';
import { formatEndpoints } from './commands/ps.ts';
import { formatPorts } from './commands/services.ts';
import { collapsePortRanges, formatPortRange } from './port-ranges.ts';

const tcp = (hostPort: number, containerPort: number, host = '127.0.0.1') => ({ host, hostPort, containerPort, protocol: 'tcp' });

test('consecutive host and container ports collapse into one range, whatever their order', () => {
  const ranges = collapsePortRanges([tcp(8002, 3002), tcp(8000, 3000), tcp(8001, 3001)]);
  assert.deepEqual(ranges.map(formatPortRange), ['127.0.0.1:8000-8002->3000-3002']);
});

test('a gap, another host address or another protocol starts a new entry', () => {
  const ranges = collapsePortRanges([
    tcp(8000, 3000),
    tcp(8001, 3001),
    tcp(9005, 3002), // container port follows, host port does not
    tcp(8003, 3003, '::1'),
    { ...tcp(8004, 3004), protocol: 'udp' },
    { ...tcp(8005, 3005), protocol: 'udp' },
  ]);
  assert.deepEqual(
    ranges.map((r) => `${formatPortRange(r)}/${r.protocol}`),
    ['127.0.0.1:8000-8001->3000-3001/tcp', '127.0.0.1:9005->3002/tcp', '[::1]:8003->3003/tcp', '127.0.0.1:8004-8005->3004-3005/udp'],
  );
});

test('cmesh ps shows a replica’s consecutive endpoints as a range', () => {
  const endpoints = [tcp(41000, 3000), tcp(41001, 3001), tcp(41002, 3002), tcp(50000, 9090)].map((e) => ({ ...e, protocol: 'tcp' as const }));
  assert.equal(formatEndpoints(endpoints), '127.0.0.1:41000-41002->3000-3002/tcp, 127.0.0.1:50000->9090/tcp');
});

test('cmesh services shows "8000-8002:3000-3002" as the range it was written as', () => {
  const publishedPorts = [3000, 3001, 3002].map((target) => ({ published: target + 5000, target, hostIp: '127.0.0.1', protocol: 'tcp' as const }));
  const row = { publishedPorts, replicas: [] } as unknown as ServiceTableRow;
  assert.equal(formatPorts(row), '127.0.0.1:8000-8002->3000-3002');
});

test('cmesh ps shows a replica reached at its own address as that address and its ports, with no mapping', () => {
  const direct = (port: number, protocol = 'tcp') => ({ host: '172.18.0.5', hostPort: port, containerPort: port, protocol, direct: true as const });
  const endpoints = [direct(3001), direct(3000), direct(53, 'udp'), { ...tcp(50000, 9090), protocol: 'tcp' as const }] as Parameters<typeof formatEndpoints>[0];
  assert.equal(formatEndpoints(endpoints), '127.0.0.1:50000->9090/tcp, 172.18.0.5:3000-3001/tcp, 172.18.0.5:53/udp');
});
