// Entry point of the east-west gateway container (bundled by the daemon into its image): the control channel on
// /run/cmesh, the data path on every meshed port. It holds no state of its own beyond the last table. The daemon's
// shared gateway container (CMESH_GATEWAY_SHARED=1) runs shared-gateway.ts instead: many projects, one socket each.

import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GATEWAY_SOCKET_DIR, GATEWAY_SOCKET_FILE } from '../../daemon/api/east-west.ts';
import { ControlClient } from './control-client.ts';
import { Gateway } from './gateway.ts';
import { statsMessage } from './stats-message.ts';
import { runSharedGateway, sharedMode } from './shared-gateway.ts';
import { DRAIN, READY, UPGRADE } from './supervisor.ts';
import { nodeDescription } from './supervisor-runtime.ts';
import { warmedUp } from './warm-up.ts';
import { pointedAt } from './worker-pointer.ts';

const STATS_MS = 1000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

export function runGateway(env: NodeJS.ProcessEnv = process.env): AbortController {
  const abort = new AbortController();
  const project = env['CMESH_GATEWAY_PROJECT'] ?? '?';
  // A project's gateways share one table; each serves the services placed on it (TCP port collisions split them).
  const index = Number(env['CMESH_GATEWAY_INDEX'] ?? 0) || 0;
  const path = env['CMESH_GATEWAY_SOCKET'] ?? join(GATEWAY_SOCKET_DIR, GATEWAY_SOCKET_FILE);
  // Under the supervisor the sockets are shared with the serving worker: this one takes connections once it listens.
  const gateway = new Gateway({
    signal: abort.signal,
    log,
    holdListeners: process.send !== undefined,
    ...(env['CMESH_GATEWAY_HOST'] ? { host: env['CMESH_GATEWAY_HOST'] } : {}),
    // While a draining replica still has requests in flight here, or this gateway drains (it is being replaced), report
    // every 50 ms: the daemon waits for them to finish, or for nothing in flight, before it stops one or the other.
    onDrainReport: () => sendStats(),
  });
  let tables = 0;
  const startedAt = Date.now();
  // In a container, the short container id: the daemon names the container it drains by it.
  const host = hostname();
  // Under the supervisor this process runs /run/cmesh/worker-<hash>.mjs; a table naming another bundle means a new cmesh.
  const ownBundle = basename(process.argv[1] ?? '');
  let asked: string | undefined;
  /** The supervisor swapped this worker out (DRAIN): its drain is never taken back. */
  let replaced = false;
  const client = new ControlClient({
    path,
    signal: abort.signal,
    onTable: (all) => {
      if (all.worker !== undefined && all.worker !== ownBundle && all.worker !== asked && process.send) {
        asked = all.worker;
        log(`asking the supervisor to swap ${ownBundle} for ${all.worker}`);
        process.send({ type: UPGRADE, file: join(dirname(path), all.worker), ...pointedAt(dirname(path), all.worker) });
      }
      // This container is being replaced start-first (its successor serves): let callers go, and say so at once.
      const drain = all.drain?.includes(host) ?? false;
      if (drain && !gateway.draining) {
        log('draining: a new gateway container serves these names; answers carry Connection: close');
        gateway.startDraining();
        sendStats();
      } else if (!drain && gateway.draining && !replaced) {
        // The replacement was called off (or a new daemon kept this one): back to keep-alive. Not after the
        // supervisor's DRAIN: this worker goes all the same.
        gateway.stopDraining();
        log('not draining after all: keep-alive again');
        sendStats();
      }
      // …and once drained, its listeners close: a caller that got both addresses goes on to the successor's.
      const retire = all.retire?.includes(host) ?? false;
      if (retire !== gateway.retiring) {
        log(retire ? 'retiring: closing the listeners, the new gateway container serves' : 'not retired after all: listening again');
        void (retire ? gateway.retire() : gateway.unretire()).then(sendStats);
      }
      const table = { ...all, services: all.services.filter((s) => (s.gateway ?? 0) === index) };
      // Decided now, not when the apply resolves: more tables may arrive meanwhile.
      const first = tables++ === 0;
      if (first) log(`first table: ${table.services.map((s) => `${s.name}[${s.ports.map((p) => `${p.port}/${p.protocol}`).join(',')}]`).join(' ')}`);
      gateway
        .apply(table)
        // Report at once: the daemon waits for the gateway to see a drain before it stops a replica.
        .then(sendStats)
        // Under the supervisor (supervisor.ts), the first applied table makes this worker ready to take over, once its
        // own probes found a replica of every service that has one to find (warm-up.ts).
        .then(async () => {
          if (!first || !process.send) return;
          const cold = await warmedUp(() => gateway.rows(), abort.signal);
          if (cold.length > 0) log(`ready with no routable replica yet for ${cold.join(', ')}`);
          await gateway.listen();
          process.send({ type: READY });
          sendStats();
        })
        .catch((err: unknown) => log(`BUG: applying the table failed: ${(err as Error)?.stack ?? String(err)}`));
    },
    onState: (connected, reason) => log(connected ? `connected to the daemon at ${path}` : `disconnected: ${reason ?? ''}`),
  });
  const sendStats = (): void => client.send(statsMessage(gateway, { project, host, index, startedAt }));
  const timer = setInterval(sendStats, STATS_MS);
  // The gateway closes its listeners on the same signal.
  abort.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  // A successor took over: let keep-alive callers go (the supervisor closes this worker's servers shortly after).
  process.on('message', (m: { type?: unknown }) => {
    if (m?.type !== DRAIN) return;
    replaced = true;
    gateway.startDraining();
  });
  log(`cmesh gateway ${index + 1} for project ${project} (${nodeDescription()}, pid ${process.pid})`);
  return abort;
}

// The daemon's one shared gateway container serves many projects (shared-gateway.ts); a project's own serves one.
const abort = sharedMode(process.env) ? runSharedGateway(process.env) : runGateway();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    abort.abort();
    // Listeners drain for up to their bound; the container's stop timeout is the backstop.
    setTimeout(() => process.exit(0), 1500).unref();
  });
}
