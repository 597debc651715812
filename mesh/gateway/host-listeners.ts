// The gateway's bound ports by address: one Bound per (host, port). A project's own gateway binds one host (every
// interface); the shared gateway binds each address it has on the project's networks, and that list changes as it runs
// (the project joins or leaves networks), so each host's ports are kept, re-bound and closed on their own.

import type { GatewayTable } from '../../daemon/api/gateway-control.ts';
import { type BindContext, bindPort, type PortUser } from './bind-port.ts';
import { type Bound, drainListeners, fingerprint } from './bound-port.ts';

export interface ListenerSync {
  /** The addresses to be bound now (none: every listener closes). */
  hosts: readonly string[];
  context: (host: string) => BindContext;
  /** The gateway drains: a listener bound now starts with `Connection: close`. */
  draining: boolean;
  aborted: () => boolean;
  log: ((line: string) => void) | undefined;
  /** The gateway's warnings, keyed; a port that cannot be bound leaves one until it is. */
  warnings: Map<string, string>;
  /** Name the address in warnings and logs (the shared gateway binds several; a project's own binds one). */
  named: boolean;
}

export class HostListeners {
  readonly #byHost = new Map<string, Map<number, Bound>>();

  all(): Bound[] {
    return [...this.#byHost.values()].flatMap((ports) => [...ports.values()]);
  }

  /** The addresses with a listener bound. */
  hosts(): string[] {
    return [...this.#byHost].filter(([, ports]) => ports.size > 0).map(([host]) => host);
  }

  /** Every port bound on some host, once. */
  ports(): number[] {
    return [...new Set([...this.#byHost.values()].flatMap((ports) => [...ports.keys()]))];
  }

  /** `service` has a listener on `port` on each of `hosts` (none: not served at all). */
  servedEverywhere(hosts: readonly string[], port: number, service: string): boolean {
    return hosts.length > 0 && hosts.every((h) => this.#byHost.get(h)?.get(port)?.listeners.has(service) === true);
  }

  /** Some listener routes `service` (its pool is kept for it while one does). */
  routes(service: string): boolean {
    return this.all().some((b) => b.listeners.has(service));
  }

  /** Takes every listener out, for the caller to close: a second take finds nothing to close twice. */
  takeAll(): Bound[] {
    const all = this.all();
    this.#byHost.clear();
    return all;
  }

  /**
   * Makes the listeners follow the table on every host of `o.hosts`; those of a host no longer listed close. Resolves
   * false when some port could not be bound (its warning says why).
   */
  async sync(table: GatewayTable, o: ListenerSync): Promise<boolean> {
    const byPort = new Map<number, PortUser[]>();
    for (const svc of table.services) for (const p of svc.ports) byPort.set(p.port, [...(byPort.get(p.port) ?? []), { svc, protocol: p.protocol }]);
    for (const [host, ports] of this.#byHost) {
      if (o.hosts.includes(host)) continue;
      // The project left that network: its address is gone, or about to be.
      this.#byHost.delete(host);
      for (const key of [...o.warnings.keys()]) if (key.startsWith(`${host} `)) o.warnings.delete(key);
      if (ports.size > 0) o.log?.(`closing the listeners on ${host}: the address is no longer the project's`);
      await Promise.all([...ports.values()].map((b) => b.close()));
    }
    let allBound = true;
    for (const host of o.hosts) {
      if (o.aborted()) return allBound;
      if (!(await this.#syncHost(host, byPort, o))) allBound = false;
    }
    return allBound;
  }

  async #syncHost(host: string, byPort: Map<number, PortUser[]>, o: ListenerSync): Promise<boolean> {
    const bound = this.#byHost.get(host) ?? new Map<number, Bound>();
    this.#byHost.set(host, bound);
    const where = (port: number): string => (o.named ? `${host}:${port}` : `port ${port}`);
    for (const [port, b] of bound) {
      const want = byPort.get(port);
      // The same services or fewer (one left) keep the listener: re-binding would refuse connections. Changed names
      // are taken in place (a gateway replaced for them gets the new table first): a shared port's dispatcher renames.
      if (want?.every((u) => b.users.includes(fingerprint(u)))) {
        b.rename?.(want.map((u) => u.svc));
        continue;
      }
      // Connections to the port are refused until it is bound again: say why, it is visible to callers.
      o.log?.(`re-binding ${where(port)}: ${want ? `its services changed (${want.map(fingerprint).filter((f) => !b.users.includes(f)).join(' ')})` : 'no service on it'}`);
      bound.delete(port);
      await b.close();
    }
    let allBound = true;
    for (const [port, users] of byPort) {
      if (bound.has(port)) continue;
      const key = `${host} ${port}`;
      try {
        const b = await bindPort(o.context(host), port, users);
        // Aborted while it bound (the abort's close() did not see it), or the host was dropped meanwhile.
        if (o.aborted() || this.#byHost.get(host) !== bound) {
          await b.close();
          return true;
        }
        if (o.draining) drainListeners(b);
        bound.set(port, b);
        o.warnings.delete(key);
      } catch (err) {
        o.warnings.set(key, `cannot listen on ${where(port)}: ${(err as Error).message}`);
        allBound = false;
      }
    }
    return allBound;
  }
}
