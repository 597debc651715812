// Published UDP ports load without a warning and `cmesh config` prints them back with their protocol: short and long
// syntax, a host range, and one host port published for TCP and UDP at once (issue #14: they used to be dropped).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadProjectFromSources } from './load.ts';
import { projectToComposeYaml } from './render-yaml.ts';

const COMPOSE = `
services:
  dns:
    image: example/dns
    ports:
      - "53:53/tcp"
      - "53:53/udp"
      - "127.0.0.1:6000-6010:6000/udp"
      - target: 5353
        published: 15353
        host_ip: 0.0.0.0
        protocol: udp
`;

test('UDP ports: short, long, range and tcp+udp on one host port load with no warning and render with protocol', () => {
  const { project, warnings } = loadProjectFromSources([{ file: '/p/compose.yaml', text: COMPOSE }], { env: {}, projectName: 'udp' });
  assert.deepEqual(warnings, []);
  assert.deepEqual(project.services['dns']?.ports, [
    { target: 53, published: 53, protocol: 'tcp', hostIp: '127.0.0.1' },
    { target: 53, published: 53, protocol: 'udp', hostIp: '127.0.0.1' },
    { target: 6000, published: 6000, publishedEnd: 6010, hostIp: '127.0.0.1', protocol: 'udp' },
    { target: 5353, published: 15353, hostIp: '0.0.0.0', protocol: 'udp' },
  ]);
  const rendered = parse(projectToComposeYaml(project)) as { services: { dns: { ports: Record<string, unknown>[] } } };
  assert.deepEqual(
    rendered.services.dns.ports.map((p) => `${p['host_ip']}:${p['published']}:${p['target']}/${p['protocol']}`),
    ['127.0.0.1:53:53/tcp', '127.0.0.1:53:53/udp', '127.0.0.1:6000-6010:6000/udp', '0.0.0.0:15353:5353/udp'],
  );
});
