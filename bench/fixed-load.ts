// Exactly N answered keep-alive GETs of the bench's 1 KiB response, for the instruction-count benches
// (bench/proxy-instructions.ts, bench/proxy-ctlplane-callgrind.ts): a fixed count, not a duration, so a window's
// instructions divide by a number the host's load cannot change.

import http from 'node:http';
import { PATH } from './proxy-peers.ts';

/**
 * Exactly `total` answered GETs over `connections` keep-alive connections, one at a time on each. A connection that
 * closes before its response (a keep-alive close racing the next request, under valgrind's slowness) is retried: a
 * GET, and the window counts answered requests, so a retry adds one request's work; more than one a connection and
 * 1 % of the requests is an error.
 */
export async function load(name: string, port: number, total: number, connections: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let sent = 0;
  let retried = 0;
  const get = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: PATH, agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`port ${port}: status ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ECONNRESET' || ++retried > connections + total / 100) reject(err);
        else resolve(get());
      });
    });
  const worker = async (): Promise<void> => {
    while (sent < total) {
      sent++;
      await get();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  if (retried > 0) console.error(`${name}: ${retried} request(s) retried after a closed connection`);
}
