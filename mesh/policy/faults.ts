// Fault injection for chaos tests: each request independently delayed and/or aborted by percentage. The spec can be
// replaced at run time (`cmesh fault`) without touching requests already delayed.

import type { FaultSpec } from '../../daemon/api/traffic-policy.ts';

export interface FaultDecision {
  delayMs: number;
  /** Status the proxy answers instead of forwarding; 0 = forward. */
  abortStatus: number;
}

const NONE: FaultDecision = Object.freeze({ delayMs: 0, abortStatus: 0 });

export class FaultInjector {
  spec: FaultSpec;
  readonly #rand: () => number;
  delayed = 0;
  aborted = 0;

  constructor(spec: FaultSpec = {}, rand: () => number = Math.random) {
    this.spec = spec;
    this.#rand = rand;
  }

  get active(): boolean {
    return (this.spec.delay?.percent ?? 0) > 0 || (this.spec.abort?.percent ?? 0) > 0;
  }

  decide(): FaultDecision {
    const { delay, abort } = this.spec;
    if (delay === undefined && abort === undefined) return NONE;
    const delayMs = delay !== undefined && this.#rand() * 100 < delay.percent ? delay.durationMs : 0;
    const abortStatus = abort !== undefined && this.#rand() * 100 < abort.percent ? abort.status : 0;
    if (delayMs > 0) this.delayed++;
    if (abortStatus > 0) this.aborted++;
    return delayMs === 0 && abortStatus === 0 ? NONE : { delayMs, abortStatus };
  }
}

export function faultResponse(status: number, service: string, close: boolean): string {
  const payload = `cmesh: fault injected for service "${service}"\n`;
  return (
    `HTTP/1.1 ${status} Injected Fault\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
    `X-Cmesh-Error: fault-injected\r\nCache-Control: no-store\r\n${close ? 'Connection: close\r\n' : ''}\r\n${payload}`
  );
}
