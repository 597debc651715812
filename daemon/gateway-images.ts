// The daemon's one handle on the gateway image: its tag at once (the planner needs nothing more), and the image itself
// looked up, or built on a machine's first use, behind a promise that only the gateway container's create awaits.

import { ensureImageOf, type GatewayImageInputs, type GatewayImageOptions, gatewayImageInputs } from './gateway-image.ts';
import { gatewayImageGc, gatewayImageGrace, removeStaleGatewayImages } from './gateway-image-gc.ts';

/** How long the image counts as present after the engine last showed it. */
const SEEN_FRESH_MS = 5000;
/** A later sweep waits this much past the moment the youngest kept image may go (its claim may be refreshed then). */
const RESWEEP_SLACK_MS = 1000;

/** The gateway image as a pass sees it: the tag to plan with, and when the engine has the image (built if missing). */
export interface GatewayImage {
  tag: string;
  /** What a kept gateway must share with the image (GatewayImageInputs.identity). */
  identity: string;
  /** The image runs the host's node: the daemon may hand a worker the host's node in /run/cmesh. */
  hostNode: boolean;
  /** Resolves to the tag once the engine has the image; rejects with the build's error. Never unhandled. */
  present: Promise<string>;
}

const facts = ({ tag, identity, hostNode }: GatewayImageInputs) => ({ tag, identity, hostNode });

/**
 * One build at a time per daemon. The tag is remembered once known (the inputs cannot change under a running daemon),
 * but the image is looked up again (and rebuilt when gone) once it was last seen a few seconds ago: another cmesh
 * version's cleanup (or a user's `docker rmi`) may remove it while no container uses it. The first time the image is
 * known in a daemon's life, the images of other cmesh versions are cleaned up (removeStaleGatewayImages), in the
 * background; an image kept then because it was built or claimed within the grace period is looked at again once
 * that period is over (a timer that does not hold the process, cleared by close()).
 */
export class GatewayImages {
  #inputs: Promise<GatewayImageInputs> | undefined;
  #present: Promise<string> | undefined;
  #collected = false;
  /** When the engine last showed the image (Date.now()). */
  #seenAt = 0;
  /** The next sweep, while an image kept for its age waits for its grace period to end. */
  #resweep: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #o: GatewayImageOptions;

  constructor(o: GatewayImageOptions) {
    this.#o = o;
  }

  async get(): Promise<GatewayImage> {
    // A bad setting fails here, every time until fixed (the planner reports it once), never half-applied.
    const env = this.#o.env ?? process.env;
    const scope = this.#collected ? undefined : gatewayImageGc(env);
    const graceMs = this.#collected ? 0 : gatewayImageGrace(env);
    this.#inputs ??= gatewayImageInputs(this.#o).catch((err: unknown) => {
      this.#inputs = undefined;
      throw err;
    });
    const inputs = await this.#inputs;
    // Seen within the last few seconds: not looked up again (a pass runs on every probe pass while an up starts its
    // replicas, and each look-up is one more engine call beside their starts). A removal meanwhile fails one create.
    if (Date.now() - this.#seenAt < SEEN_FRESH_MS) return { ...facts(inputs), present: Promise.resolve(inputs.tag) };
    this.#present ??= this.#ensure(inputs, scope, graceMs).finally(() => {
      this.#present = undefined;
    });
    // A pass that creates no gateway never awaits it: its failure belongs to the next create, not to the process.
    this.#present.catch(() => undefined);
    return { ...facts(inputs), present: this.#present };
  }

  async #ensure(inputs: GatewayImageInputs, scope: Record<string, string> | undefined, graceMs: number): Promise<string> {
    const tag = await ensureImageOf(this.#o, inputs);
    this.#seenAt = Date.now();
    if (!this.#collected) {
      this.#collected = true;
      if (scope) void this.#sweep(tag, scope, graceMs);
    }
    return tag;
  }

  /** Stops a pending later sweep (the daemon stops). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#resweep);
  }

  /** Never rejects (removeStaleGatewayImages does not throw; the settings were checked by get()). */
  async #sweep(current: string, scope: Record<string, string>, graceMs: number): Promise<void> {
    const { retryAt } = await removeStaleGatewayImages(this.#o.engine, current, { scope, graceMs, ...(this.#o.log ? { log: this.#o.log } : {}) });
    if (retryAt === undefined || this.#closed) return;
    this.#resweep = setTimeout(() => void this.#sweep(current, scope, graceMs), Math.max(0, retryAt - Date.now()) + RESWEEP_SLACK_MS);
    this.#resweep.unref();
  }
}
