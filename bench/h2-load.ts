// The HTTP/2 load of the h2 benches (bench/h2.ts, bench/tls-product.ts): a node http2 client in its own process,
// 4 sessions × 32 concurrent streams of GET /bytes?n=1024 over TLS, with the proxy process's CPU charged to each request.
// Child mode, started by measureH2 as `h2-load.ts --client PORT SECONDS CA_FILE`: prints {requests, errors}.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { childMode } from './args.ts';
import { PATH } from './proxy-peers.ts';
import { type Sample, withCpu } from './tls-fixture.ts';

const SESSIONS = 4;
const STREAMS = 32;
const SELF = fileURLToPath(import.meta.url);

async function client(port: number, seconds: number, ca: string): Promise<void> {
  const until = performance.now() + seconds * 1000;
  let requests = 0;
  let errors = 0;
  const connect = (): http2.ClientHttp2Session => {
    const s = http2.connect(`https://localhost:${port}`, { ca });
    s.on('error', () => {});
    return s;
  };
  // A server may end a session after so many requests (GOAWAY): the client reconnects, as a real one would.
  const one = (slot: { s: http2.ClientHttp2Session }): Promise<void> =>
    new Promise((resolve) => {
      if (slot.s.closed || slot.s.destroyed) slot.s = connect();
      const r = slot.s.request({ ':path': PATH });
      r.on('response', (h) => {
        if (h[':status'] !== 200) errors++;
      });
      r.on('data', () => {});
      r.on('end', () => {
        requests++;
        resolve();
      });
      r.on('error', () => {
        errors++;
        resolve();
      });
    });
  const sessions = Array.from({ length: SESSIONS }, () => ({ s: connect() }));
  await Promise.all(
    sessions.flatMap((s) =>
      Array.from({ length: STREAMS }, async () => {
        while (performance.now() < until) await one(s);
      }),
    ),
  );
  for (const slot of sessions) slot.s.close();
  process.stdout.write(`${JSON.stringify({ requests, errors })}\n`);
}

/** One h2 load of `seconds` against the proxy on `port` (pid `pid`), trusting the CA in `caFile`. */
export function measureH2(pid: number, port: number, seconds: number, caFile: string): Sample {
  return withCpu(pid, () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--client', String(port), String(seconds), caFile], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const { requests, errors } = JSON.parse(out) as { requests: number; errors: number };
    return { requests, rps: requests / seconds, errors };
  });
}

const childRun = process.argv[1] === SELF ? childMode(['--client'] as const) : undefined;
if (childRun !== undefined) await client(Number(childRun.args[0]), Number(childRun.args[1]), readFileSync(childRun.args[2]!, 'utf8'));
