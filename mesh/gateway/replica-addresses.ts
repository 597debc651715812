// Where the gateway reaches each replica: its container's address on the project network, as the daemon's table gives
// it, else resolved by Docker's DNS (an engine that publishes replicas on loopback gives the daemon no address).

import { lookup } from 'node:dns/promises';
import type { GatewayTable } from '../../daemon/api/gateway-control.ts';

const dockerDns = async (container: string): Promise<string> => (await lookup(container.slice(0, 12), { family: 4 })).address;

export class ReplicaAddresses {
  readonly #addresses = new Map<string, string>();
  readonly #resolve: (container: string) => Promise<string>;
  /** The gateway's warnings, keyed by container: an unresolvable one is named there until it resolves. */
  readonly #warnings: Map<string, string>;

  constructor(resolve: ((container: string) => Promise<string>) | undefined, warnings: Map<string, string>) {
    this.#resolve = resolve ?? dockerDns;
    this.#warnings = warnings;
  }

  get(container: string): string | undefined {
    return this.#addresses.get(container);
  }

  /**
   * The table's running replicas: the address it gives, else resolved, new ones only or every one with `all` (a
   * restart may move an address; the daemon's next table carries a moved one it knows).
   */
  async refresh(table: GatewayTable, all: boolean): Promise<void> {
    const running = table.services.flatMap((s) => s.replicas.filter((r) => r.state === 'running'));
    const wanted = running.map((r) => r.container);
    await Promise.all(
      running.map(async ({ container, address }) => {
        if (address !== undefined) {
          this.#addresses.set(container, address);
          this.#warnings.delete(container);
          return;
        }
        // A failed re-resolution keeps the last address: DNS trouble must not empty a pool that works.
        if (!all && this.#addresses.has(container)) return;
        try {
          this.#addresses.set(container, await this.#resolve(container));
          this.#warnings.delete(container);
        } catch (err) {
          this.#warnings.set(container, `cannot resolve container ${container.slice(0, 12)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }),
    );
    const live = new Set(wanted);
    for (const container of this.#addresses.keys()) if (!live.has(container)) this.#addresses.delete(container);
  }
}
