// A scripted HTTP "engine" on a unix socket for the adapter's unit tests: each test routes the requests it expects
// and answers with the statuses and bodies a real engine sends, so mapping and stream parsing run without Docker.

import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ScriptedEngine {
  readonly socketPath = `/tmp/cmesh-scripted-engine-${randomBytes(4).toString('hex')}.sock`;
  /** Every request, in order. */
  readonly seen: { method: string; url: URL }[] = [];
  readonly #routes = new Map<string, Handler>();
  #server: Server | undefined;

  /** Answers `method path` with `handler` from now on (replacing an earlier route); unrouted requests get a 500. */
  route(method: string, path: string, handler: Handler): void {
    this.#routes.set(`${method} ${path}`, handler);
  }

  /** The query of the last request to `path`. */
  lastQuery(path: string): URLSearchParams {
    const last = this.seen.filter((s) => s.url.pathname === path).at(-1);
    if (!last) throw new Error(`no request to ${path}`);
    return last.url.searchParams;
  }

  async start(): Promise<void> {
    const server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      this.seen.push({ method: req.method ?? '', url });
      const handler = this.#routes.get(`${req.method} ${url.pathname}`);
      if (!handler) return json(res, 500, { message: `unscripted ${req.method} ${url.pathname}` });
      await handler(req, res, url);
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(this.socketPath, { force: true });
  }
}
