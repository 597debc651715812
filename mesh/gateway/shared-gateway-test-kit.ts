// What the shared gateway's tests share: a project's daemon end (a unix socket under the root that sends tables and
// collects reports, as daemon/gateway-hub.ts does), HTTP replicas on loopback addresses, and calls that say who answered.

import { mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { GATEWAY_SOCKET_FILE } from '../../daemon/api/east-west.ts';
import { GATEWAY_PROTOCOL_VERSION, type GatewayService, type GatewayStats, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { httpService } from './gateway-test-kit.ts';

/** One project's daemon end of the control channel. */
export class FakeDaemon {
  readonly project: string;
  readonly path: string;
  readonly stats: GatewayStats[] = [];
  readonly #clients = new Set<net.Socket>();
  #server: net.Server | undefined;
  #line: string | undefined;
  #waiters: (() => void)[] = [];

  constructor(root: string, project: string) {
    this.project = project;
    mkdirSync(join(root, project), { recursive: true });
    this.path = join(root, project, GATEWAY_SOCKET_FILE);
  }

  /** Listens on the project's socket (again, after close(): a restarted daemon); new clients get the last table. */
  async listen(): Promise<this> {
    const server = net.createServer((s) => {
      this.#clients.add(s);
      s.setEncoding('utf8');
      if (this.#line) s.write(this.#line);
      let buffered = '';
      s.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          this.stats.push(JSON.parse(buffered.slice(0, nl)) as GatewayStats);
          buffered = buffered.slice(nl + 1);
        }
        this.#wake();
      });
      s.on('error', () => undefined);
      s.on('close', () => this.#clients.delete(s));
      this.#wake();
    });
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
    this.#server = server;
    return this;
  }

  get clients(): number {
    return this.#clients.size;
  }

  send(table: GatewayTable): void {
    this.#line = `${JSON.stringify(table)}\n`;
    for (const c of this.#clients) c.write(this.#line);
  }

  /** Resolves once `check` holds, re-checked on every report or connection (bounded). */
  async until(what: string, check: () => boolean, ms = 4000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${this.project}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The last report from the shared gateway, once one matches. */
  async report(what: string, match: (s: GatewayStats) => boolean): Promise<GatewayStats> {
    await this.until(what, () => this.stats.length > 0 && match(this.stats.at(-1)!));
    return this.stats.at(-1)!;
  }

  /** The daemon stops (node unlinks the socket file; the directory stays, as after a daemon's exit). */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const c of this.#clients) c.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A table for `project` whose `services` are on the shared gateway at `addresses` (none: `shared` left out). */
export function sharedTable(project: string, services: GatewayService[], addresses?: string[], extra: Partial<GatewayTable> = {}): GatewayTable {
  return { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project, services, ...(addresses ? { shared: { addresses } } : {}), ...extra };
}

/** `name` on `port`, its one replica an HTTP server at `address:port` answering `<name>@<address>` (seeded healthy). */
export async function replicaService(name: string, port: number, address: string, closers: (() => Promise<void>)[]): Promise<GatewayService> {
  const server = http.createServer((_req, res) => res.end(`${name}@${address}`));
  await new Promise<void>((resolve) => server.listen(port, address, resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  // A container id of the address's bytes (hex): one per replica address.
  const svc = httpService(name, port, address.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('').padEnd(12, '0'));
  return { ...svc, replicas: svc.replicas.map((r) => ({ ...r, address })) };
}

/** A GET to `host:port`: `200 <body>`, or the connection error's code (ECONNREFUSED when nothing listens). */
export function call(host: string, port: number, name = 'web'): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', headers: { host: name }, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Polls `probe` until it returns `want` (bounded): listeners open and close asynchronously to the table. */
export async function becomes(what: string, want: string, probe: () => Promise<string>, ms = 4000): Promise<void> {
  const deadline = Date.now() + ms;
  let got = await probe();
  while (got !== want) {
    if (Date.now() > deadline) throw new Error(`${what}: wanted ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 20));
    got = await probe();
  }
}
