// What the engine contract's case files share with its runner (engine-contract.ts): the harness and the per-run context.

import type { ContainerCreateSpec, ContainerEngine } from '../api/engine.ts';

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
