import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerCreateSpec } from '../api/engine.ts';
import { createOptions, healthcheckToDocker } from './container-spec.ts';

const spec: ContainerCreateSpec = {
  name: 'p-web-1',
  image: 'cmesh/node:local',
  command: ['node', 'server.js'],
  env: { PORT: '8080', EMPTY: '' },
  labels: { 'dev.cmesh.project': 'p' },
  ports: [
    { containerPort: 8080, protocol: 'tcp' },
    { containerPort: 53, protocol: 'udp' },
  ],
  healthcheck: { test: ['CMD-SHELL', 'wget -q -O- localhost:8080'], intervalMs: 2000, timeoutMs: 500, retries: 3, startPeriodMs: 1000, disable: false },
  mounts: [
    { type: 'bind', source: '/srv/data', target: '/data', readOnly: true },
    { type: 'volume', source: 'p_cache', target: '/cache', readOnly: false },
    { type: 'tmpfs', target: '/tmp', readOnly: false },
  ],
  networks: [
    { name: 'p_default', aliases: ['web'] },
    { name: 'p_back', aliases: ['web-back'] },
  ],
  workingDir: '/app',
  user: '1000:1000',
  stopSignal: 'SIGINT',
  stopTimeoutSec: 5,
  hostname: 'web-1',
  init: true,
};

describe('createOptions', () => {
  it('maps the whole spec to the engine create body', () => {
    assert.deepEqual(createOptions(spec), {
      name: 'p-web-1',
      Image: 'cmesh/node:local',
      Cmd: ['node', 'server.js'],
      Env: ['PORT=8080', 'EMPTY='],
      Labels: { 'dev.cmesh.project': 'p' },
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      HostConfig: {
        PortBindings: {
          '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
          '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        },
        Init: true,
        Mounts: [
          { Type: 'bind', Source: '/srv/data', Target: '/data', ReadOnly: true },
          { Type: 'volume', Source: 'p_cache', Target: '/cache', ReadOnly: false },
        ],
        Tmpfs: { '/tmp': '' },
        RestartPolicy: { Name: 'no' },
        NetworkMode: 'p_default',
      },
      NetworkingConfig: { EndpointsConfig: { p_default: { Aliases: ['web'] } } },
      Healthcheck: { Test: ['CMD-SHELL', 'wget -q -O- localhost:8080'], Interval: 2e9, Timeout: 5e8, Retries: 3, StartPeriod: 1e9 },
      WorkingDir: '/app',
      User: '1000:1000',
      Hostname: 'web-1',
      StopSignal: 'SIGINT',
      StopTimeout: 5,
    });
  });

  it('leaves optional fields out and never sets a restart policy other than "no"', () => {
    const body = createOptions({ ...spec, command: undefined, healthcheck: undefined, networks: [], ports: [], mounts: [], init: false });
    assert.equal(body.Cmd, undefined);
    assert.equal(body.Healthcheck, undefined);
    assert.equal(body.NetworkingConfig, undefined);
    assert.equal(body.HostConfig?.NetworkMode, undefined);
    assert.deepEqual(body.HostConfig?.RestartPolicy, { Name: 'no' });
    assert.equal(body.HostConfig?.Init, false);
  });
});

describe('healthcheckToDocker', () => {
  it('disables with NONE', () => {
    assert.deepEqual(healthcheckToDocker({ test: ['CMD', 'true'], intervalMs: 1000, disable: true }), { Test: ['NONE'] });
    assert.deepEqual(healthcheckToDocker({ test: ['NONE'], disable: false }), { Test: ['NONE'] });
  });

  it('converts milliseconds to nanoseconds', () => {
    assert.deepEqual(healthcheckToDocker({ test: ['CMD', 'true'], startIntervalMs: 250, disable: false }), {
      Test: ['CMD', 'true'],
      StartInterval: 250_000_000,
    });
  });
});

describe('createOptions: a replica reached at its own address', () => {
  const reach = { ...spec, reachNetwork: 'p_default', ports: [...spec.ports, { containerPort: 9000, protocol: 'tcp' as const, hostPort: 19000 }] };

  it('exposes its ports without publishing them, and labels where the daemon finds them', () => {
    const body = createOptions(reach, true);
    assert.deepEqual(body.ExposedPorts, { '8080/tcp': {}, '53/udp': {}, '9000/tcp': {} });
    // A fixed host port (`cmesh run -p`) is the user's own: still published.
    assert.deepEqual(body.HostConfig?.PortBindings, { '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '19000' }] });
    assert.deepEqual(body.Labels, { 'dev.cmesh.project': 'p', 'dev.cmesh.reach-network': 'p_default', 'dev.cmesh.reach-ports': '8080/tcp,53/udp' });
  });

  it('publishes as before when the engine does not reach containers directly, or the spec has no reach network', () => {
    const published = createOptions(spec);
    assert.deepEqual(createOptions(reach, false).HostConfig?.PortBindings, { ...published.HostConfig?.PortBindings, '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '19000' }] });
    assert.deepEqual(createOptions(reach, false).Labels, { 'dev.cmesh.project': 'p' });
    assert.deepEqual(createOptions(spec, true), published);
  });
});
