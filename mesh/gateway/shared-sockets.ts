// A retiring worker's listening sockets close in the worker, not one IPC message later in the supervisor: the primary
// drops its own copy of each first, so the worker's close (timed right after an accept round) is the socket's last.
//
// Why: a listening socket shared by cluster (SCHED_NONE) is open in the primary and in every worker. A worker's
// close() only lets go of its copy and tells the primary, which closes the socket once no worker holds it. In between
// nobody accepts, the kernel keeps completing handshakes, and the primary's close resets every connection queued
// meanwhile (their callers already sent a request: ECONNRESET). gateway-retire.test.ts counts them.

import cluster from 'node:cluster';

/**
 * Worker → primary: close your copies of these ports' listening sockets (`ports`; with `hosts`, only those bound on one of
 * these addresses), answer RELEASED with `id`.
 */
export const RELEASE = 'cmesh-gateway-release';
export const RELEASED = 'cmesh-gateway-released';

/** An older supervisor does not answer: the worker closes after this anyway (the socket then closes as it used to). */
const RELEASE_WAIT_MS = 500;

export type Handle = { constructor: { name: string }; getsockname?: (out: { port?: number; address?: string }) => number; close?: () => void };

const activeHandles = (): Handle[] => (process as unknown as { _getActiveHandles?: () => Handle[] })._getActiveHandles?.() ?? [];

/**
 * In the primary: closes its copies of the listening TCP sockets on `ports` (the workers' copies keep them open).
 * cluster keeps those handles to itself; the process's active handles are the one way to reach them. cluster closes
 * each again once its last worker lets go, which is a no-op on a closed handle. With `hosts`, only the sockets bound on
 * one of them: the shared gateway binds one port on many projects' addresses, and one project retiring must not close
 * the others' copies. Returns how many were closed.
 */
export function closePrimaryCopies(ports: readonly number[], hosts?: readonly string[], active: readonly Handle[] = activeHandles()): number {
  const wanted = new Set(ports);
  const on = hosts && new Set(hosts);
  let closed = 0;
  for (const h of active) {
    if (h.constructor.name !== 'TCP' || typeof h.getsockname !== 'function' || typeof h.close !== 'function') continue;
    const out: { port?: number; address?: string } = {};
    if (h.getsockname(out) !== 0 || out.port === undefined || !wanted.has(out.port)) continue;
    if (on && (out.address === undefined || !on.has(out.address))) continue;
    h.close();
    closed++;
  }
  return closed;
}

let requests = 0;

/**
 * In a cluster worker: asks the primary to drop its copies of `ports` (on `hosts` only, when given) and waits for it
 * (bounded). Elsewhere: nothing. A supervisor older than `hosts` drops every copy of those ports.
 */
export function releaseShared(ports: readonly number[], hosts?: readonly string[]): Promise<void> {
  if (!cluster.isWorker || !process.send || ports.length === 0) return Promise.resolve();
  const id = ++requests;
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve();
    };
    const onMessage = (m: { type?: unknown; id?: unknown }): void => {
      if (m?.type === RELEASED && m.id === id) done();
    };
    const timer = setTimeout(done, RELEASE_WAIT_MS);
    process.on('message', onMessage);
    process.send!({ type: RELEASE, id, ports, ...(hosts ? { hosts } : {}) });
  });
}
