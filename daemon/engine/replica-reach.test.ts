import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCmeshError } from '../api/errors.ts';
import { resolveEngineTarget } from './connect.ts';
import { decideReach, reachSetting } from './replica-reach.ts';

describe('reachSetting (CMESH_REPLICA_REACH)', () => {
  it('is auto unless set to direct or published', () => {
    assert.equal(reachSetting({}), 'auto');
    assert.equal(reachSetting({ CMESH_REPLICA_REACH: '' }), 'auto');
    assert.equal(reachSetting({ CMESH_REPLICA_REACH: 'auto' }), 'auto');
    assert.equal(reachSetting({ CMESH_REPLICA_REACH: 'direct' }), 'direct');
    assert.equal(reachSetting({ CMESH_REPLICA_REACH: 'published' }), 'published');
  });

  it('refuses anything else with a usage error that names the choices', () => {
    assert.throws(
      () => reachSetting({ CMESH_REPLICA_REACH: 'ip' }),
      (e: unknown) => isCmeshError(e) && e.code === 'CMESH_E_USAGE' && /direct, published or auto/.test(e.hint ?? ''),
    );
  });
});

describe('decideReach (auto)', () => {
  const local = resolveEngineTarget(undefined, {});
  const linux = { OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', SecurityOptions: ['name=seccomp,profile=default'] };

  it('reaches replicas directly on a local Linux engine, over the default socket or a unix DOCKER_HOST', () => {
    assert.equal(decideReach(local, linux, 'linux').mode, 'direct');
    assert.equal(decideReach(resolveEngineTarget('unix:///run/docker.sock', {}), linux, 'linux').mode, 'direct');
    assert.equal(decideReach(resolveEngineTarget(undefined, { DOCKER_HOST: 'unix:///run/user/docker.sock' }), linux, 'linux').mode, 'direct');
  });

  it('publishes where the host cannot route to the bridges: another OS, a remote engine, Docker Desktop, rootless', () => {
    assert.equal(decideReach(local, linux, 'darwin').mode, 'published');
    assert.equal(decideReach(local, linux, 'win32').mode, 'published');
    assert.equal(decideReach(resolveEngineTarget('tcp://10.0.0.5:2376', {}), linux, 'linux').mode, 'published');
    assert.equal(decideReach(resolveEngineTarget(undefined, { DOCKER_HOST: 'ssh://me@box' }), linux, 'linux').mode, 'published');
    assert.equal(decideReach(local, { OperatingSystem: 'Docker Desktop', SecurityOptions: [] }, 'linux').mode, 'published');
    const rootless = decideReach(local, { ...linux, SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'] }, 'linux');
    assert.equal(rootless.mode, 'published');
    assert.match(rootless.reason, /rootless/);
    assert.equal(decideReach(local, {}, 'linux').mode, 'direct', 'an engine that says little is still local Linux');
  });
});
