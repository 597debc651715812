// Where the gateway reaches each replica: its container's address on the project network, resolved by Docker's DNS.

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

  /** Resolves the table's running replicas: new ones only, or every one with `all` (a restart may move an address). */
  async refresh(table: GatewayTable, all: boolean): Promise<void> {
    const wanted = table.services.flatMap((s) => s.replicas.filter((r) => r.state === 'running').map((r) => r.container));
    await Promise.all(
      wanted.map(async (container) => {
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
