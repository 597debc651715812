// The gateway's end of the control channel: connects to the daemon's unix socket, reconnects forever, hands every valid
// table to the gateway and reports stats back. Losing the daemon loses nothing but updates (fail-open).

import net from 'node:net';
import { type GatewayStats, type GatewayTable, gatewayTableSchema, parseGatewayLine } from '../../daemon/api/gateway-control.ts';

export interface ControlClientOptions {
  path: string;
  onTable: (table: GatewayTable) => void;
  /** Called on every (re)connection and disconnection, for the log. */
  onState?: (connected: boolean, reason?: string) => void;
  /** Called when an attempt fails before it connects (nothing listens there): retries go on all the same. */
  onConnectFailed?: (reason: string) => void;
  signal: AbortSignal;
  /** Pause between connection attempts (default 250 ms: a restarted daemon is found again within that). */
  retryMs?: number;
}

/** Longest line accepted from the daemon; a table of a few hundred replicas is far below. */
const MAX_LINE = 4 * 1024 * 1024;

export class ControlClient {
  readonly #o: ControlClientOptions;
  #socket: net.Socket | undefined;

  constructor(options: ControlClientOptions) {
    this.#o = options;
    this.#connect();
  }

  get connected(): boolean {
    return this.#socket !== undefined;
  }

  /** Sends a report if connected; dropped otherwise (the next one follows within a second). */
  send(stats: GatewayStats): void {
    this.#socket?.write(`${JSON.stringify(stats)}\n`);
  }

  #connect(): void {
    if (this.#o.signal.aborted) return;
    const socket = net.connect(this.#o.path);
    let buffered = '';
    let opened = false;
    const onAbort = (): void => void socket.destroy();
    this.#o.signal.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      opened = true;
      this.#socket = socket;
      this.#o.onState?.(true);
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_LINE) {
        socket.destroy(new Error('control line too long'));
        return;
      }
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const table = parseGatewayLine(line, gatewayTableSchema);
        if (table) this.#o.onTable(table);
        nl = buffered.indexOf('\n');
      }
    });
    let failure = 'closed';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = err.code ?? err.message;
    });
    socket.on('close', () => {
      this.#o.signal.removeEventListener('abort', onAbort);
      if (this.#socket === socket) this.#socket = undefined;
      if (opened) this.#o.onState?.(false, 'daemon connection closed; serving the last table');
      else if (!this.#o.signal.aborted) this.#o.onConnectFailed?.(failure);
      if (this.#o.signal.aborted) return;
      setTimeout(() => this.#connect(), this.#o.retryMs ?? 250).unref();
    });
  }
}
