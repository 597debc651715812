// Volume mount options, service network endpoints and top-level network/volume options: what the loader keeps for the
// engine, and the refusals (with line:col) for what the engine cannot do or would silently drop.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerTemplate } from '../reconcile/container-spec.ts';
import { projectToComposeYaml } from './render-yaml.ts';
import { load, loadError, service, where } from './test-helpers.ts';

const vols = (lines: string, top = 'volumes:\n  data:\n'): string => `services:\n  web:\n    image: x\n    volumes:\n${lines}${top}`;

test('short syntax: z/Z, propagation, nocopy and consistency modes are kept, not dropped', () => {
  const s = service(vols('      - ./a:/a:Z,rshared\n      - /b:/b:ro,z,cached\n      - data:/d:nocopy,ro\n'));
  assert.deepEqual(s.volumes, [
    { type: 'bind', source: '/proj/a', target: '/a', readOnly: false, createHostPath: true, propagation: 'rshared', selinux: 'Z' },
    { type: 'bind', source: '/b', target: '/b', readOnly: true, createHostPath: true, selinux: 'z' },
    { type: 'volume', source: 'data', target: '/d', readOnly: true, noCopy: true },
  ]);
});

test('short syntax: conflicting modes and modes of the other mount kind are errors at the entry', () => {
  const conflict = loadError(vols('      - ./a:/a:ro,rw\n'));
  assert.deepEqual(where(conflict), ['5:9 services.web.volumes[0]']);
  assert.match(conflict.issues[0]?.message ?? '', /conflicting modes/);
  const nocopyOnBind = loadError(vols('      - ./a:/a:nocopy\n'));
  assert.match(nocopyOnBind.issues[0]?.message ?? '', /"nocopy" applies to named volumes only/);
  const zOnVolume = loadError(vols('      - data:/d:z\n'));
  assert.match(zOnVolume.issues[0]?.message ?? '', /"z" applies to bind mounts only/);
});

test('long syntax: bind propagation/selinux/create_host_path, volume nocopy/subpath, tmpfs size/mode', () => {
  const s = service(
    vols(
      [
        '      - {type: bind, source: ./a, target: /a, bind: {propagation: rslave, selinux: Z}}',
        '      - {type: bind, source: /b, target: /b, bind: {create_host_path: false}}',
        '      - {type: volume, source: data, target: /d, volume: {nocopy: true, subpath: sub/dir}}',
        '      - {type: tmpfs, target: /t, tmpfs: {size: 64m, mode: 1770}}',
        '      - {type: tmpfs, target: /u, tmpfs: {size: 4096, mode: 0o700}, consistency: cached}',
        '',
      ].join('\n'),
    ),
  );
  assert.deepEqual(s.volumes, [
    { type: 'bind', source: '/proj/a', target: '/a', readOnly: false, createHostPath: true, propagation: 'rslave', selinux: 'Z' },
    { type: 'bind', source: '/b', target: '/b', readOnly: false, createHostPath: false },
    { type: 'volume', source: 'data', target: '/d', readOnly: false, noCopy: true, subpath: 'sub/dir' },
    { type: 'tmpfs', target: '/t', readOnly: false, tmpfsSizeBytes: 64 * 1024 ** 2, tmpfsMode: 0o1770 },
    { type: 'tmpfs', target: '/u', readOnly: false, tmpfsSizeBytes: 4096, tmpfsMode: 0o700 },
  ]);
});

test('long syntax refusals: image/npipe/cluster types, options of another type, escaping subpath, selinux without create', () => {
  const cases: [string, string, RegExp][] = [
    ['      - {type: image, source: alpine, target: /i}\n', '5:16 services.web.volumes[0].type', /image mounts need Engine API 1\.48/],
    ['      - {type: npipe, source: x, target: /p}\n', '5:16 services.web.volumes[0].type', /Windows/],
    ['      - {type: cluster, source: x, target: /c}\n', '5:16 services.web.volumes[0].type', /Swarm/],
    ['      - {type: bind, source: ./a, target: /a, volume: {nocopy: true}}\n', '5:47 services.web.volumes[0].volume', /"volume" options on a bind mount/],
    ['      - {type: volume, source: data, target: /d, volume: {subpath: ../x}}\n', '5:68 services.web.volumes[0].volume.subpath', /stay inside the volume/],
    ['      - {type: bind, source: ./a, target: /a, bind: {create_host_path: false, selinux: z}}\n', '5:88 services.web.volumes[0].bind.selinux', /selinux relabeling cannot be combined/],
    ['      - {type: tmpfs, source: x, target: /t}\n', '5:31 services.web.volumes[0].source', /no source/],
  ];
  for (const [yaml, at, message] of cases) {
    const err = loadError(vols(yaml));
    assert.deepEqual(where(err), [at], yaml);
    assert.match(err.issues[0]?.message ?? '', message);
  }
});

const nets = (service: string, top: string): string => `services:\n  web:\n    image: x\n${service}networks:\n${top}`;

test('service networks: static addresses, link-local IPs, MAC, priorities, driver_opts and interface_name are read', () => {
  const p = load(
    nets(
      '    networks:\n      front:\n        ipv4_address: 10.213.7.10\n        ipv6_address: "fd00:213::10"\n        link_local_ips: [169.254.8.8]\n        mac_address: 02:42:ac:11:00:99\n        priority: 100\n        gw_priority: 1\n        driver_opts: {com.docker.network.endpoint.sysctls: "net.ipv4.conf.IFNAME.log_martians=1"}\n        interface_name: eth7\n      back:\n',
      '  front:\n    enable_ipv6: true\n    ipam:\n      config:\n        - subnet: 10.213.7.0/24\n        - subnet: fd00:213::/64\n  back: {}\n',
    ),
  ).project;
  assert.deepEqual(p.services['web']?.networks, {
    front: {
      aliases: [],
      ipv4Address: '10.213.7.10',
      ipv6Address: 'fd00:213::10',
      linkLocalIps: ['169.254.8.8'],
      macAddress: '02:42:ac:11:00:99',
      priority: 100,
      gwPriority: 1,
      driverOpts: { 'com.docker.network.endpoint.sysctls': 'net.ipv4.conf.IFNAME.log_martians=1' },
      interfaceName: 'eth7',
    },
    back: { aliases: [] },
  });
});

test('a static address needs a subnet of the project and one replica; malformed addresses are errors', () => {
  const noSubnet = loadError(nets('    networks:\n      front:\n        ipv4_address: 10.213.7.10\n', '  front: {}\n'));
  assert.deepEqual(where(noSubnet), ['6:23 services.web.networks.front.ipv4_address']);
  assert.match(noSubnet.issues[0]?.message ?? '', /no subnet of its own/);
  const replicas = loadError(nets('    scale: 2\n    networks:\n      front:\n        ipv4_address: 10.213.7.10\n', '  front:\n    ipam: {config: [{subnet: 10.213.7.0/24}]}\n'));
  assert.match(replicas.issues[0]?.message ?? '', /service "web" has a static address on network "front" but runs 2 replicas/);
  const bad = loadError(nets('    networks:\n      front:\n        ipv4_address: 10.213.7.300\n        mac_address: nope\n', '  front:\n    ipam: {config: [{subnet: 10.213.7.0/24}]}\n'));
  assert.deepEqual(where(bad), ['6:23 services.web.networks.front.ipv4_address', '7:22 services.web.networks.front.mac_address']);
});

test('top-level networks: ipam, driver_opts, attachable, enable_ipv4/6; volumes: driver_opts; refused on external ones', () => {
  const p = load(
    'services:\n  web:\n    image: x\n    networks: [n]\n    volumes: [v:/v]\nnetworks:\n  n:\n    driver_opts: {com.docker.network.bridge.name: cm213}\n    attachable: true\n    enable_ipv4: true\n    enable_ipv6: false\n    ipam:\n      driver: default\n      options: {foo: bar}\n      config:\n        - {subnet: 10.213.8.0/24, ip_range: 10.213.8.128/25, gateway: 10.213.8.1, aux_addresses: {printer: 10.213.8.5}}\nvolumes:\n  v:\n    driver_opts: {type: tmpfs, device: tmpfs, o: "size=1m"}\n',
  ).project;
  const { name: _n, engineName: _e, labels: _l, ...net } = p.networks['n']!;
  assert.deepEqual(net, {
    external: false,
    internal: false,
    driverOpts: { 'com.docker.network.bridge.name': 'cm213' },
    attachable: true,
    enableIpv4: true,
    enableIpv6: false,
    ipam: { driver: 'default', options: { foo: 'bar' }, config: [{ subnet: '10.213.8.0/24', ipRange: '10.213.8.128/25', gateway: '10.213.8.1', auxAddresses: { printer: '10.213.8.5' } }] },
  });
  assert.deepEqual(p.volumes['v']?.driverOpts, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  const ext = loadError('services:\n  web:\n    image: x\n    networks: [n]\nnetworks:\n  n:\n    external: true\n    ipam: {config: [{subnet: 10.213.9.0/24}]}\n');
  assert.deepEqual(where(ext), ['8:5 networks.n.ipam']);
  const badSubnet = loadError('services:\n  web:\n    image: x\n    networks: [n]\nnetworks:\n  n:\n    ipam: {config: [{subnet: 10.213.9.0}]}\n');
  assert.deepEqual(where(badSubnet), ['7:30 networks.n.ipam.config[0].subnet']);
});

test('none of these keys is reported as ignored any more', () => {
  const r = load(
    nets('    networks:\n      n:\n        ipv4_address: 10.213.7.10\n        driver_opts: {a: b}\n        priority: 1\n', '  n:\n    attachable: true\n    ipam: {config: [{subnet: 10.213.7.0/24}]}\n    driver_opts: {a: b}\n'),
  );
  assert.deepEqual(r.keys?.ignored, []);
  assert.deepEqual(r.warnings, []);
});

test('cmesh config renders every option so that loading its output gives the same project', () => {
  const text = nets(
    '    volumes:\n      - ./a:/a:ro,Z,rslave\n      - {type: volume, source: d, target: /d, volume: {nocopy: true, subpath: s}}\n      - {type: tmpfs, target: /t, tmpfs: {size: 1m, mode: 0700}}\n    networks:\n      n: {ipv4_address: 10.213.3.4, priority: 5, driver_opts: {a: b}, mac_address: "02:42:ac:11:00:99"}\n',
    '  n:\n    driver_opts: {x: y}\n    attachable: true\n    ipam: {driver: default, config: [{subnet: 10.213.3.0/24, gateway: 10.213.3.1}]}\nvolumes:\n  d:\n    driver_opts: {type: tmpfs}\n',
  );
  const first = load(text).project;
  const again = load(projectToComposeYaml(first)).project;
  assert.deepEqual(again.services['web']?.volumes, first.services['web']?.volumes);
  assert.deepEqual(again.services['web']?.networks, first.services['web']?.networks);
  assert.deepEqual(again.networks['n'], first.networks['n']);
  assert.deepEqual(again.volumes['d'], first.volumes['d']);
});

test('networks are connected in Compose order: higher priority first, then by name', () => {
  const p = load(nets('    networks:\n      a: {}\n      b: {priority: 10}\n      c: {priority: 10}\n', '  a: {}\n  b: {}\n  c: {}\n')).project;
  const order = containerTemplate(p, p.services['web']!).networks.map((n) => n.name);
  assert.deepEqual(order, [`${p.name}_b`, `${p.name}_c`, `${p.name}_a`]);
});

test('bind recursive: kept when not the default; writable/readonly need a read-only bind, and selinux cannot join it', () => {
  const s = service(vols('      - {type: bind, source: /a, target: /a, read_only: true, bind: {recursive: readonly}}\n      - {type: bind, source: /b, target: /b, bind: {recursive: enabled}}\n'));
  assert.deepEqual(s.volumes.map((v) => v.recursive), ['readonly', undefined]);
  const rw = loadError(vols('      - {type: bind, source: /a, target: /a, bind: {recursive: writable}}\n'));
  assert.match(rw.issues[0]?.message ?? '', /recursive "writable" applies to read-only binds/);
  const se = loadError(vols('      - {type: bind, source: /a, target: /a, bind: {recursive: disabled, selinux: z}}\n'));
  assert.match(se.issues[0]?.message ?? '', /selinux relabeling cannot be combined with `recursive`/);
});

test('volume.labels on an anonymous volume reach the mount (map or list); cmesh config prints them', () => {
  const text = vols(['      - {type: volume, target: /cache, volume: {labels: {tier: cache, keep: "no"}}}', '      - {type: volume, target: /tmp2, volume: {labels: [a=1, b=2]}}', ''].join('\n'));
  const p = load(text).project;
  assert.deepEqual(load(text).warnings, []);
  assert.deepEqual(p.services['web']!.volumes, [
    { type: 'volume', target: '/cache', readOnly: false, volumeLabels: { tier: 'cache', keep: 'no' } },
    { type: 'volume', target: '/tmp2', readOnly: false, volumeLabels: { a: '1', b: '2' } },
  ]);
  assert.deepEqual(containerTemplate(p, p.services['web']!).mounts[0]?.volumeLabels, { tier: 'cache', keep: 'no' }, 'the container spec (and its hash) carries them');
  assert.match(projectToComposeYaml(p), /volume:\n\s+labels:\n\s+tier: cache\n\s+keep: "?no"?\n/);
});

test('volume.labels on a named volume: a warning at its position (the volume exists before the mount), not sent', () => {
  const loaded = load(vols('      - {type: volume, source: data, target: /d, volume: {labels: {tier: db}}}\n'));
  assert.deepEqual(
    loaded.warnings.map((w) => `${w.position?.line}:${w.position?.col} ${w.path}`),
    ['5:67 services.web.volumes[0].volume.labels'],
  );
  assert.match(loaded.warnings[0]?.message ?? '', /volume\.labels apply only to an anonymous volume; "data" is created from the top-level volumes/);
  assert.equal(loaded.project.services['web']!.volumes[0]?.volumeLabels, undefined);
});
