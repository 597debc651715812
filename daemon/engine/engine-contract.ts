// The ContainerEngine contract: one suite of the port's documented semantics (daemon/api/engine.ts), run against the
// fake (fake-engine.contract.test.ts) and the real adapter on Docker (dockerode-engine.contract.docker.test.ts), so
// "the fake behaves like Docker" is checked rather than claimed. Split by resource like the implementations.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { ContainerCreateSpec, ContainerEngine } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import { containerCases } from './engine-contract-containers.ts';
import { resourceCases } from './engine-contract-resources.ts';
import { streamCases } from './engine-contract-streams.ts';

export interface ContractHarness {
  engine: ContainerEngine;
  /**
   * A local busybox image. Containers, execs and RUN steps get `sh -c` scripts of echo/exit/sleep only, which a real
   * busybox and the fake's shell (fake-shell.ts) run alike.
   */
  image: string;
  /** Unique to this run, lowercase: prefixes every name and is the project label of everything the contract creates. */
  project: string;
  /** Extra labels on everything the contract creates (the docker tier's test and run labels, for reaping). */
  labels: Record<string, string>;
  /** The engine's clock (event `since`, log times). */
  now(): number;
  /** Removes whatever the run created; called from `after`, also when a case failed. */
  cleanup(): Promise<void>;
}

/** What each case file gets: the harness (after `before`), and spec/label builders scoped to the run. */
export interface ContractContext {
  readonly h: ContractHarness;
  /** The project's labels plus the harness's: what a managed network or volume carries. */
  labels(): Record<string, string>;
  /** A managed replica spec named `<project>-<service>` running `script` (default: sleep, so it stays up). */
  spec(service: string, over?: Partial<ContainerCreateSpec>): ContainerCreateSpec;
  /** The `sh -c` command for a script. */
  sh(script: string): string[];
}

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
    resourceCases(ctx);
  });
}
