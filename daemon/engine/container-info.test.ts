import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { directEndpoints, fromInspect, fromListEntry, parseEngineTime, parseListStatus, upForMs } from './container-info.ts';

describe('parseListStatus', () => {
  const rows: [string, string | undefined, ReturnType<typeof parseListStatus>][] = [
    ['Up 3 seconds (healthy)', 'running', { state: 'running', health: 'healthy' }],
    ['Up 3 seconds (healthy)', undefined, { state: 'running', health: 'healthy' }],
    ['Up 1 minute (health: starting)', 'running', { state: 'running', health: 'starting' }],
    ['Up About a minute (unhealthy)', 'running', { state: 'running', health: 'unhealthy' }],
    ['Up 2 hours', 'running', { state: 'running', health: 'none' }],
    ['Up 5 seconds (Paused)', undefined, { state: 'paused', health: 'none' }],
    ['Up 5 seconds (healthy) (Paused)', 'paused', { state: 'paused', health: 'healthy' }],
    ['Exited (137) 2 hours ago', 'exited', { state: 'exited', health: 'none', exitCode: 137 }],
    ['Exited (0) Less than a second ago', undefined, { state: 'exited', health: 'none', exitCode: 0 }],
    ['Restarting (1) 3 seconds ago', 'restarting', { state: 'restarting', health: 'none', exitCode: 1 }],
    ['Created', 'created', { state: 'created', health: 'none' }],
    ['Removal In Progress', undefined, { state: 'removing', health: 'none' }],
    ['Dead', 'dead', { state: 'dead', health: 'none' }],
    ['', 'weird-new-state', { state: 'dead', health: 'none' }],
    ['  up 1 second  (HEALTHY) ', undefined, { state: 'running', health: 'healthy' }],
  ];
  for (const [status, state, expected] of rows) {
    it(`${JSON.stringify(status)} / ${state ?? '-'}`, () => assert.deepEqual(parseListStatus(status, state), expected));
  }
});

describe('parseEngineTime', () => {
  it('parses RFC3339Nano and treats Go zero time as undefined', () => {
    assert.equal(parseEngineTime('2024-05-01T12:00:00.987654321Z'), Date.UTC(2024, 4, 1, 12, 0, 0, 987));
    assert.equal(parseEngineTime('0001-01-01T00:00:00Z'), undefined);
    assert.equal(parseEngineTime(''), undefined);
    assert.equal(parseEngineTime('nonsense'), undefined);
  });
});

describe('upForMs', () => {
  it('reads the least time a run has lasted from an Up status, whole units rounded down; nothing from another', () => {
    const rows: [string | undefined, number | undefined][] = [
      ['Up Less than a second', 0],
      ['Up 1 second', 1000],
      ['Up 3 seconds (healthy)', 3000],
      ['Up 59 seconds (health: starting)', 59_000],
      ['Up About a minute (unhealthy)', 60_000],
      ['Up 5 minutes (Paused)', 300_000],
      ['Up About an hour', 3_600_000],
      ['Up 3 hours', 3_600_000],
      ['Up 2 weeks', 3_600_000],
      ['Exited (0) 3 seconds ago', undefined],
      ['Restarting (1) 2 seconds ago', undefined],
      ['Created', undefined],
      ['Up for a while', undefined],
      [undefined, undefined],
    ];
    for (const [status, ms] of rows) assert.equal(upForMs(status), ms, String(status));
  });
});

describe('fromListEntry', () => {
  it('maps a list entry: name without slash, endpoints with public ports only, IPs normalised, deduped', () => {
    const entry = {
      Id: 'abc',
      Names: ['/p-web-1'],
      Image: 'cmesh/node:local',
      ImageID: 'sha256:123',
      Command: 'node',
      Created: 1_700_000_000,
      Ports: [
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 49153, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 9090, PublicPort: 49154, Type: 'tcp' },
        { IP: '::', PrivatePort: 9090, PublicPort: 49154, Type: 'tcp' },
        { PrivatePort: 7070, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 49155, Type: 'udp' },
      ],
      Labels: { 'dev.cmesh.project': 'p' },
      State: 'running',
      Status: 'Up 3 seconds (healthy)',
      HostConfig: { NetworkMode: 'p_default' },
      NetworkSettings: { Networks: {} },
      Mounts: [],
    } as unknown as Docker.ContainerInfo;
    assert.deepEqual(fromListEntry(entry), {
      id: 'abc',
      name: 'p-web-1',
      image: 'cmesh/node:local',
      imageId: 'sha256:123',
      state: 'running',
      health: 'healthy',
      labels: { 'dev.cmesh.project': 'p' },
      createdAt: 1_700_000_000_000,
      upForMs: 3000,
      restartCount: 0,
      endpoints: [
        { containerPort: 53, protocol: 'udp', host: '127.0.0.1', hostPort: 49155 },
        { containerPort: 8080, protocol: 'tcp', host: '127.0.0.1', hostPort: 49153 },
        { containerPort: 9090, protocol: 'tcp', host: '127.0.0.1', hostPort: 49154 },
      ],
      networks: [],
    });
  });
});

describe('fromInspect', () => {
  const base = {
    Id: 'abc',
    Name: '/p-web-1',
    Created: '2024-05-01T12:00:00.5Z',
    Image: 'sha256:123',
    RestartCount: 2,
    Config: { Image: 'cmesh/node:local', Labels: { a: 'b' }, Tty: false },
    NetworkSettings: {
      Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }], '9000/tcp': null },
      // The engine adds the container's short id as an alias on user-defined networks; cmesh never asked for it.
      Networks: { p_default: { Aliases: ['web', 'abc'] }, bridge: { Aliases: null } },
    },
  };

  it('maps a running container (no exit code while running)', () => {
    const info = fromInspect({
      ...base,
      State: {
        Status: 'running',
        ExitCode: 0,
        StartedAt: '2024-05-01T12:00:01.000000001Z',
        FinishedAt: '0001-01-01T00:00:00Z',
        Health: { Status: 'starting', FailingStreak: 0, Log: [] },
      },
    } as unknown as Docker.ContainerInspectInfo);
    assert.deepEqual(info, {
      id: 'abc',
      name: 'p-web-1',
      image: 'cmesh/node:local',
      imageId: 'sha256:123',
      state: 'running',
      health: 'starting',
      labels: { a: 'b' },
      createdAt: Date.UTC(2024, 4, 1, 12, 0, 0, 500),
      startedAt: Date.UTC(2024, 4, 1, 12, 0, 1),
      restartCount: 2,
      endpoints: [{ containerPort: 8080, protocol: 'tcp', host: '127.0.0.1', hostPort: 49153 }],
      networks: [
        { name: 'bridge', aliases: [] },
        { name: 'p_default', aliases: ['web'] },
      ],
    });
  });

  it('maps an exited container with its exit code and finish time', () => {
    const info = fromInspect({
      ...base,
      NetworkSettings: { Ports: {} },
      State: { Status: 'exited', ExitCode: 137, StartedAt: '2024-05-01T12:00:01Z', FinishedAt: '2024-05-01T12:00:09Z' },
    } as unknown as Docker.ContainerInspectInfo);
    assert.equal(info.state, 'exited');
    assert.equal(info.exitCode, 137);
    assert.equal(info.finishedAt, Date.UTC(2024, 4, 1, 12, 0, 9));
    assert.equal(info.health, 'none');
    assert.deepEqual(info.endpoints, []);
  });
});

describe('directEndpoints (a replica reached at its own address)', () => {
  const labels = { 'dev.cmesh.reach-network': 'p_default', 'dev.cmesh.reach-ports': '8080/tcp,53/udp' };
  const networks = { p_default: { IPAddress: '172.18.0.5' }, p_back: { IPAddress: '172.19.0.5' } };

  it("takes the labelled ports at the labelled network's address", () => {
    assert.deepEqual(directEndpoints(labels, networks), [
      { containerPort: 8080, protocol: 'tcp', host: '172.18.0.5', hostPort: 8080, direct: true },
      { containerPort: 53, protocol: 'udp', host: '172.18.0.5', hostPort: 53, direct: true },
    ]);
  });

  it('has none without the labels, before the container has an address, or for anything but an IPv4 literal', () => {
    assert.deepEqual(directEndpoints({}, networks), []);
    assert.deepEqual(directEndpoints({ 'dev.cmesh.reach-network': 'p_default' }, networks), []);
    assert.deepEqual(directEndpoints(labels, { p_default: { IPAddress: '' } }), [], 'stopped: the engine reports no address');
    assert.deepEqual(directEndpoints(labels, { p_back: { IPAddress: '172.19.0.5' } }), [], 'not on the labelled network');
    assert.deepEqual(directEndpoints(labels, { p_default: { IPAddress: 'evil.example' } }), [], 'never a name');
    assert.deepEqual(directEndpoints({ ...labels, 'dev.cmesh.reach-ports': '8080/tcp,x,99999999/tcp,7/sctp' }, networks).map((e) => e.containerPort), [8080]);
  });

  it('joins the published ones in a list entry and an inspect, sorted, and leaves an image\'s other EXPOSEd ports out', () => {
    const entry = {
      Id: 'abc', Names: ['/p-web-1'], Image: 'i', Created: 1, State: 'running', Status: 'Up 1 second',
      Labels: labels,
      // 8080 and 53 unpublished; 7070 only EXPOSEd by the image; 9000 published (a fixed host port).
      Ports: [{ PrivatePort: 8080, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }, { PrivatePort: 7070, Type: 'tcp' }, { IP: '127.0.0.1', PrivatePort: 9000, PublicPort: 19000, Type: 'tcp' }],
      NetworkSettings: { Networks: networks },
    } as unknown as Docker.ContainerInfo;
    const want = [
      { containerPort: 53, protocol: 'udp', host: '172.18.0.5', hostPort: 53, direct: true },
      { containerPort: 8080, protocol: 'tcp', host: '172.18.0.5', hostPort: 8080, direct: true },
      { containerPort: 9000, protocol: 'tcp', host: '127.0.0.1', hostPort: 19000 },
    ];
    assert.deepEqual(fromListEntry(entry).endpoints, want);
    const inspected = fromInspect({
      Id: 'abc', Name: '/p-web-1', Created: '2024-05-01T12:00:00Z', Image: 'sha256:1', RestartCount: 0,
      Config: { Image: 'i', Labels: labels },
      State: { Status: 'running', ExitCode: 0, StartedAt: '2024-05-01T12:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
      NetworkSettings: { Ports: { '8080/tcp': null, '53/udp': null, '7070/tcp': null, '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '19000' }] }, Networks: networks },
    } as unknown as Docker.ContainerInspectInfo);
    assert.deepEqual(inspected.endpoints, want);
  });
});
