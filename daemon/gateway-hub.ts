// The daemon's end of the gateways' control channels: one unix socket per project in CMESH_HOME/gw/<project>/ (the
// directory is bind-mounted into the gateway, so a restarted daemon's new socket is seen at once), tables out, stats in.

import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { GATEWAY_SOCKET_FILE } from './api/east-west.ts';
import { CmeshError } from './api/errors.ts';
import { type GatewayStats, type GatewayTable, gatewayStatsSchema, parseGatewayLine } from './api/gateway-control.ts';

/** sun_path is 108 bytes on Linux. */
const MAX_SOCKET_PATH = 107;
const MAX_LINE = 4 * 1024 * 1024;

interface Channel {
  server: net.Server;
  clients: Set<net.Socket>;
  /** Last table sent, serialized; a client that connects gets it at once. */
  line?: string;
  /** Each connection's last report (a project has several gateways when TCP ports collide; a gateway swapping its
   * code has two worker processes for a moment). */
  stats: Map<net.Socket, GatewayStats>;
}

/** Per gateway index, the report of its newest process (the one that serves once a code swap is done). */
function newestPerGateway(reports: Iterable<GatewayStats>): GatewayStats[] {
  const byIndex = new Map<number, GatewayStats>();
  for (const r of reports) {
    const seen = byIndex.get(r.gateway ?? 0);
    if (!seen || r.startedAt > seen.startedAt) byIndex.set(r.gateway ?? 0, r);
  }
  return [...byIndex.values()];
}

/**
 * One view over a project's gateways: their rows side by side (each serves other services), warnings joined, and the
 * oldest report time, so "reported since T" means every gateway has.
 */
export function mergeGatewayStats(reports: GatewayStats[]): GatewayStats | undefined {
  const [first, ...rest] = [...reports].sort((a, b) => (a.gateway ?? 0) - (b.gateway ?? 0));
  if (!first || rest.length === 0) return first;
  const all = [first, ...rest];
  // Known only when every gateway says (one older than the field does not).
  const serving = all.every((s) => s.serving !== undefined) ? all.flatMap((s) => s.serving ?? []) : undefined;
  const { serving: _firstOnly, ...head } = first;
  return {
    ...head,
    ...(serving ? { serving } : {}),
    time: Math.min(...all.map((s) => s.time)),
    services: all.flatMap((s) => s.services),
    warnings: all.flatMap((s) => s.warnings),
    requests: all.flatMap((s) => s.requests),
    policy: { ports: all.flatMap((s) => s.policy?.ports ?? []), breakers: all.flatMap((s) => s.policy?.breakers ?? []) },
  };
}

export class GatewayHub {
  readonly #dir: string;
  readonly #log: (line: string) => void;
  readonly #channels = new Map<string, Channel>();
  readonly #opening = new Map<string, Promise<string>>();

  readonly #onStats: ((project: string, stats: GatewayStats) => void) | undefined;

  constructor(home: string, log: (line: string) => void = () => undefined, onStats?: (project: string, stats: GatewayStats) => void) {
    this.#dir = join(home, 'gw');
    this.#log = log;
    this.#onStats = onStats;
  }

  /** The directory of every project's socket directory (the shared gateway mounts it whole). */
  get root(): string {
    return this.#dir;
  }

  socketDir(project: string): string {
    return join(this.#dir, project);
  }

  /** Listens for the project's gateway (once); resolves to the directory to bind-mount. */
  open(project: string): Promise<string> {
    const dir = this.socketDir(project);
    if (this.#channels.has(project)) return Promise.resolve(dir);
    let p = this.#opening.get(project);
    if (!p) {
      p = this.#listen(project, dir).finally(() => this.#opening.delete(project));
      this.#opening.set(project, p);
    }
    return p;
  }

  /**
   * Sends the table when it differs from the last one sent (and to every gateway that connects later). False when the
   * project has no channel (not opened, or closed): the table went nowhere.
   */
  publish(project: string, table: GatewayTable): boolean {
    const ch = this.#channels.get(project);
    if (!ch) return false;
    const line = `${JSON.stringify(table)}\n`;
    if (line === ch.line) return true;
    ch.line = line;
    for (const c of ch.clients) c.write(line);
    return true;
  }

  stats(project: string): GatewayStats | undefined {
    return mergeGatewayStats(newestPerGateway(this.#channels.get(project)?.stats.values() ?? []));
  }

  /** Each gateway's own latest report (its newest process's), unmerged: readiness is judged per gateway. */
  reports(project: string): GatewayStats[] {
    return newestPerGateway(this.#channels.get(project)?.stats.values() ?? []);
  }

  /** Every connected gateway process's latest report, none left out: two containers of one index while one replaces
   * the other, two worker processes while one swaps its code. A drain must hear from all of them. */
  allReports(project: string): GatewayStats[] {
    return [...(this.#channels.get(project)?.stats.values() ?? [])];
  }

  /** The latest report of the gateway container whose hostname is `host` (its newest process's): a start-first
   * replacement has two containers of one index connected at once. */
  reportOf(project: string, host: string): GatewayStats | undefined {
    const mine = [...(this.#channels.get(project)?.stats.values() ?? [])].filter((r) => r.host === host);
    return mine.sort((a, b) => b.startedAt - a.startedAt || b.time - a.time)[0];
  }

  connected(project: string): boolean {
    return (this.#channels.get(project)?.clients.size ?? 0) > 0;
  }

  projects(): string[] {
    return [...this.#channels.keys()];
  }

  /** Stops listening for one project (down) or all (daemon stop); gateways keep serving their last table. */
  async close(project?: string): Promise<void> {
    const names = project === undefined ? [...this.#channels.keys()] : [project];
    await Promise.all(
      names.map(async (name) => {
        const ch = this.#channels.get(name);
        if (!ch) return;
        this.#channels.delete(name);
        for (const c of ch.clients) c.destroy();
        await new Promise<void>((resolve) => ch.server.close(() => resolve()));
      }),
    );
  }

  async #listen(project: string, dir: string): Promise<string> {
    const path = join(dir, GATEWAY_SOCKET_FILE);
    if (path.length > MAX_SOCKET_PATH) {
      throw new CmeshError('CMESH_E_CONFIG', `the gateway socket path ${path} is longer than a unix socket allows`, {
        hint: 'set CMESH_HOME to a shorter directory, e.g. CMESH_HOME=/tmp/cmesh-$USER',
      });
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Ours: the daemon lock guarantees no other daemon serves this CMESH_HOME, so a socket file here is stale.
    rmSync(path, { force: true });
    const ch: Channel = { server: net.createServer((s) => this.#accept(project, ch, s)), clients: new Set(), stats: new Map() };
    await new Promise<void>((resolve, reject) => {
      ch.server.once('error', reject);
      ch.server.listen(path, () => {
        ch.server.off('error', reject);
        resolve();
      });
    });
    this.#channels.set(project, ch);
    return dir;
  }

  #accept(project: string, ch: Channel, socket: net.Socket): void {
    ch.clients.add(socket);
    this.#log(`gateway of ${project} connected`);
    socket.setEncoding('utf8');
    if (ch.line) socket.write(ch.line);
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_LINE) {
        socket.destroy();
        return;
      }
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const stats = parseGatewayLine(buffered.slice(0, nl), gatewayStatsSchema);
        buffered = buffered.slice(nl + 1);
        // Checked loosely above: the rows are only passed on to readers, never acted on.
        if (stats && stats.project === project) {
          const report = stats as unknown as GatewayStats;
          ch.stats.set(socket, report);
          this.#onStats?.(project, report);
        }
        nl = buffered.indexOf('\n');
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      ch.clients.delete(socket);
      // A gone gateway's last rows would hold up drains and show stale health; its replacement reports afresh.
      ch.stats.delete(socket);
    });
  }
}
