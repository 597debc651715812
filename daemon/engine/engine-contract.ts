// The ContainerEngine contract: one suite of the port's documented semantics (daemon/api/engine.ts), run against the
// fake (fake-engine.contract.test.ts) and the real adapter on Docker (dockerode-engine.contract.docker.test.ts), so
// "the fake behaves like Docker" is checked rather than claimed. Split by resource like the implementations.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { Labels, projectLabels } from '../api/labels.ts';
import { containerCases } from './engine-contract-containers.ts';
import { ioCases } from './engine-contract-io.ts';
import { resourceCases } from './engine-contract-resources.ts';
import { streamCases } from './engine-contract-streams.ts';
import type { ContractContext, ContractHarness } from './engine-contract-types.ts';

export type { ContractContext, ContractHarness } from './engine-contract-types.ts';

export function engineContract(name: string, makeHarness: () => Promise<ContractHarness>): void {
  let harness: ContractHarness | undefined;
  const ctx: ContractContext = {
    get h() {
      assert.ok(harness, 'the harness is made in before()');
      return harness;
    },
    labels: () => ({ ...ctx.h.labels, ...projectLabels(ctx.h.project) }),
    sh: (script) => ['sh', '-c', script],
    spec: (service, over = {}) => ({
      name: `${ctx.h.project}-${service}`,
      image: ctx.h.image,
      command: ['sleep', '300'],
      env: { CMESH_CONTRACT: '1' },
      labels: { ...ctx.labels(), [Labels.service]: service, [Labels.replica]: '1' },
      ports: [],
      mounts: [],
      networks: [],
      init: true,
      stopTimeoutSec: 2,
      ...over,
    }),
  };

  describe(`engine contract: ${name}`, { timeout: 120_000 }, () => {
    before(async () => {
      harness = await makeHarness();
    });
    after(async () => {
      await harness?.cleanup();
    });
    containerCases(ctx);
    streamCases(ctx);
    ioCases(ctx);
    resourceCases(ctx);
  });
}
