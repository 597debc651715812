// What a gateway container runs besides its image: cmesh's worker bundle and (with a host-node image) the host's node,
// made once a daemon and installed into a gateway directory: a project's own, or the root the shared gateway mounts.

import { join } from 'node:path';
import { type GatewayRuntime, hostRuntime, installRuntime } from './gateway-runtime.ts';
import { installWorker, type WorkerBundle, workerBundle } from './gateway-worker.ts';

/** A promise made once and kept; a failure is not kept, so the next caller tries again. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}

export class GatewayPayload {
  /** This cmesh's worker bundle (made once: its inputs cannot change under a running daemon). */
  readonly worker: () => Promise<WorkerBundle> = once(() => workerBundle());
  /** The host's node for the workers (hashed once a daemon, or found in the home's cache). */
  readonly runtime: () => Promise<GatewayRuntime>;
  readonly #home: string;
  /** The worker at the shared gateway's root: installed once a daemon. */
  readonly #atRoot = new Map<string, () => Promise<string>>();

  constructor(home: string) {
    this.#home = home;
    this.runtime = once(() => hostRuntime(process.env, join(home, 'gateway-runtime-tag.json')));
  }

  /** The worker bundle (and the host's node) in one gateway directory; resolves to the bundle's name (the table's). */
  async install(dir: string, worker: WorkerBundle, runtime: GatewayRuntime | undefined): Promise<string> {
    if (runtime) await installRuntime(dir, runtime, join(this.#home, 'gateway-runtimes'));
    return installWorker(dir, worker, runtime?.name);
  }

  /** install() into `root` once a daemon (its bundle and node cannot change under it): not on every pass. */
  installOnce(root: string, worker: WorkerBundle, runtime: GatewayRuntime | undefined): Promise<string> {
    let install = this.#atRoot.get(root);
    if (!install) {
      install = once(() => this.install(root, worker, runtime));
      this.#atRoot.set(root, install);
    }
    return install();
  }
}
