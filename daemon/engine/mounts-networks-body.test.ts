// Mounts, endpoints, networks and volumes → the engine's request bodies: every option the loader keeps reaches the body.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOptions } from './container-spec.ts';
import { bindString, mountFields } from './mounts.ts';
import { endpointSettings, IFNAME_OPT, networkCreateBody, volumeCreateBody } from './network-specs.ts';

test('binds that may create their host path are Binds strings with ro/rw, selinux and propagation', () => {
  assert.equal(bindString({ type: 'bind', source: '/h', target: '/c', readOnly: true, createHostPath: true, selinux: 'Z', propagation: 'rshared' }), '/h:/c:ro,Z,rshared');
  assert.equal(bindString({ type: 'bind', source: '/h', target: '/c', readOnly: false, createHostPath: true }), '/h:/c:rw');
});

test('tmpfs mounts are Tmpfs options (a Mounts API tmpfs breaks volumes_from on Engine 20.10); the rest uses Mounts', () => {
  const fields = mountFields([
    { type: 'bind', source: '/made', target: '/a', readOnly: false, createHostPath: true },
    { type: 'bind', source: '/must-exist', target: '/b', readOnly: true, createHostPath: false, propagation: 'rslave' },
    { type: 'volume', source: 'p_data', target: '/d', readOnly: false, noCopy: true, subpath: 'sub' },
    { type: 'volume', target: '/anon', readOnly: false },
    { type: 'tmpfs', target: '/t', readOnly: false, tmpfsSizeBytes: 65536, tmpfsMode: 0o1770 },
  ]);
  assert.deepEqual(fields.Binds, ['/made:/a:rw']);
  assert.deepEqual(fields.Mounts, [
    { Type: 'bind', Source: '/must-exist', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
    { Type: 'volume', Source: 'p_data', Target: '/d', ReadOnly: false, VolumeOptions: { NoCopy: true, Subpath: 'sub' } },
    { Type: 'volume', Source: '', Target: '/anon', ReadOnly: false },
  ]);
  assert.deepEqual(mountFields([]), { Mounts: [] });
});

test('volume labels go in VolumeOptions.Labels (the engine puts them on the volume it creates for the mount)', () => {
  assert.deepEqual(mountFields([{ type: 'volume', target: '/cache', readOnly: false, volumeLabels: { tier: 'cache' } }]).Mounts, [
    { Type: 'volume', Source: '', Target: '/cache', ReadOnly: false, VolumeOptions: { Labels: { tier: 'cache' } } },
  ]);
  assert.deepEqual(mountFields([{ type: 'volume', target: '/v', readOnly: false, noCopy: true, volumeLabels: {} }]).Mounts, [
    { Type: 'volume', Source: '', Target: '/v', ReadOnly: false, VolumeOptions: { NoCopy: true } },
  ], 'no empty Labels object');
});

test('endpoint settings: IPAMConfig, MacAddress, GwPriority, DriverOpts with the interface name option', () => {
  assert.deepEqual(endpointSettings({ name: 'n', aliases: ['web'] }), { Aliases: ['web'] });
  assert.deepEqual(
    endpointSettings({ name: 'n', aliases: [], ipv4Address: '10.213.0.9', ipv6Address: 'fd00::9', linkLocalIps: ['169.254.1.1'], macAddress: '02:42:ac:11:00:99', gwPriority: 2, driverOpts: { a: 'b' }, interfaceName: 'eth5' }),
    {
      Aliases: [],
      IPAMConfig: { IPv4Address: '10.213.0.9', IPv6Address: 'fd00::9', LinkLocalIPs: ['169.254.1.1'] },
      MacAddress: '02:42:ac:11:00:99',
      GwPriority: 2,
      DriverOpts: { a: 'b', [IFNAME_OPT]: 'eth5' },
    },
  );
});

test('network create body: options, attachable, IPv4/IPv6 switches and IPAM pools', () => {
  assert.deepEqual(networkCreateBody({ name: 'p_n', labels: { l: '1' } }), { Name: 'p_n', CheckDuplicate: true, Labels: { l: '1' } });
  assert.deepEqual(
    networkCreateBody({
      name: 'p_n',
      labels: {},
      driver: 'bridge',
      internal: true,
      driverOpts: { 'com.docker.network.bridge.name': 'cm0' },
      attachable: true,
      enableIpv6: true,
      ipam: { config: [{ subnet: '10.213.1.0/24', ipRange: '10.213.1.128/25', gateway: '10.213.1.1', auxAddresses: { h: '10.213.1.5' } }], options: { o: 'v' } },
    }),
    {
      Name: 'p_n',
      CheckDuplicate: true,
      Labels: {},
      Driver: 'bridge',
      Internal: true,
      Attachable: true,
      EnableIPv6: true,
      Options: { 'com.docker.network.bridge.name': 'cm0' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.213.1.0/24', IPRange: '10.213.1.128/25', Gateway: '10.213.1.1', AuxiliaryAddresses: { h: '10.213.1.5' } }], Options: { o: 'v' } },
    },
  );
});

test('volume create body carries driver_opts', () => {
  assert.deepEqual(volumeCreateBody({ name: 'p_v', labels: {}, driver: 'local', driverOpts: { type: 'tmpfs', device: 'tmpfs' } }), {
    Name: 'p_v',
    Labels: {},
    Driver: 'local',
    DriverOpts: { type: 'tmpfs', device: 'tmpfs' },
  });
});

test('the first network MAC address also goes into the container config (engines before API 1.44 read only that)', () => {
  const base = { name: 'c', image: 'i', env: {}, labels: {}, ports: [], mounts: [], init: false };
  const body = createOptions({ ...base, networks: [{ name: 'p_a', aliases: [], macAddress: '02:42:ac:11:00:01' }, { name: 'p_b', aliases: [] }] });
  assert.equal(body.MacAddress, '02:42:ac:11:00:01');
  assert.deepEqual(body.NetworkingConfig?.EndpointsConfig?.['p_a'], { Aliases: [], MacAddress: '02:42:ac:11:00:01' });
  assert.equal(createOptions({ ...base, networks: [{ name: 'p_a', aliases: [] }] }).MacAddress, undefined);
});

test('bind recursive goes through the Mounts API: NonRecursive, ReadOnlyNonRecursive/ForceRecursive, CreateMountpoint', () => {
  const { Binds, Mounts } = mountFields([
    { type: 'bind', source: '/a', target: '/a', readOnly: false, createHostPath: true, recursive: 'disabled' },
    { type: 'bind', source: '/b', target: '/b', readOnly: true, createHostPath: false, recursive: 'readonly' },
    { type: 'bind', source: '/c', target: '/c', readOnly: true, createHostPath: false, recursive: 'writable' },
  ]);
  assert.equal(Binds, undefined);
  assert.deepEqual(
    Mounts?.map((m) => m.BindOptions),
    [{ NonRecursive: true, CreateMountpoint: true }, { ReadOnlyForceRecursive: true }, { ReadOnlyNonRecursive: true }],
  );
});
