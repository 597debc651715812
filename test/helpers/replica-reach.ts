// What a test expects of how the daemon reaches replicas on this machine (daemon/engine/replica-reach.ts): the same
// decision, from the same inputs, so an e2e test checks the mode the daemon took rather than assuming one.

import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import type { Endpoint } from '../../daemon/api/engine.ts';
import { resolveEngineTarget } from '../../daemon/engine/connect.ts';
import { decideReach, type ReachInfo, type ReachMode, reachSetting } from '../../daemon/engine/replica-reach.ts';
import { run } from './docker.ts';

let decided: Promise<ReachMode> | undefined;

export function expectedReach(env: NodeJS.ProcessEnv = process.env): Promise<ReachMode> {
  decided ??= (async () => {
    const setting = reachSetting(env);
    if (setting !== 'auto') return setting;
    const info = JSON.parse(await run(['info', '--format', '{{json .}}'])) as ReachInfo;
    return decideReach(resolveEngineTarget(env['DOCKER_HOST'] || undefined, env), info).mode;
  })();
  return decided;
}

/** A replica's endpoints as the mode says: its own address and container port (direct), else loopback ports. */
export function assertReached(mode: ReachMode, endpoints: readonly Endpoint[], who: string): void {
  assert.ok(endpoints.length > 0, `${who} has an endpoint`);
  for (const e of endpoints) {
    if (mode === 'direct') {
      assert.equal(e.direct, true, `${who}: ${JSON.stringify(e)} is its own address`);
      assert.ok(isIPv4(e.host) && !e.host.startsWith('127.'), `${who}: ${e.host} is a container address`);
      assert.equal(e.hostPort, e.containerPort, `${who}: nothing published for ${e.containerPort}`);
    } else {
      assert.equal(e.direct, undefined, `${who}: ${JSON.stringify(e)} is published`);
      assert.equal(e.host, '127.0.0.1', `${who}: published on loopback`);
    }
  }
}
