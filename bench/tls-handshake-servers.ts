// The TLS servers bench/tls-handshake.ts compares, each as one or N processes accepting on ONE listening socket:
// node's bare TLS server (the floor of a handshake on node), cmesh's proxy behind TlsServing (the product path), and
// nginx's config with N workers. N > 1 on node is `cluster` with SCHED_NONE: node 20 has no `reusePort`, but the
// primary's listening socket is shared and every worker accepts on it, like nginx's workers (no hand-off hop).
// Child mode: `tls-handshake-servers.ts --floor|--tls-only|--cmesh PORT DIR PROCS [UPSTREAM…]`, prints `ready` when listening.

import { type ChildProcess, spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import type { ServedCert } from '../mesh/tls/cert-store.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { childMode } from './args.ts';
import { waitPort } from './proxy-load.ts';
import { waitReady } from './tls-fixture.ts';

const BODY = 'x'.repeat(1024);

/** node's TLS server alone (bench/tls.ts's floor): same certificate and protocol floor, one fixed 1 KiB answer a connection. */
async function floorServer(dir: string): Promise<Server> {
  const { createServer } = await import('node:tls');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return createServer({ cert: read('leaf.crt'), key: read('leaf.key'), minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] }, answer);
}

const HEAD = `HTTP/1.1 200 OK\r\ncontent-length: ${BODY.length}\r\n`;
const KEEP = Buffer.from(`${HEAD}\r\n${BODY}`, 'latin1');
const LAST = Buffer.from(`${HEAD}connection: close\r\n\r\n${BODY}`, 'latin1');
/** wrk's header in the benches' handshake loads (bench/tls-fixture.ts), matched as sent: a native search a read. */
const CLOSE = Buffer.from('Connection: close');

/**
 * The fixed 1 KiB answer to each read (wrk sends one request a read and waits for its answer); a request with
 * `Connection: close` gets it and the connection ends (one handshake a request), any other keeps the connection open,
 * so the same server is the floor of a keep-alive HTTPS request too (no HTTP parsing: a floor, not a server).
 */
export function answer(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    if (chunk.includes(CLOSE)) socket.end(LAST);
    else socket.write(KEEP);
  });
}

/** The bench's leaf as cmesh serves it (mesh/tls/cert-store.ts: whole chain, the CA for client certificates). */
async function benchCert(dir: string): Promise<ServedCert> {
  const { ServedCert } = await import('../mesh/tls/cert-store.ts');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  const issued = { cert: read('leaf.crt'), key: read('leaf.key'), notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000) };
  return new ServedCert('localhost', ['localhost', '127.0.0.1', '::1'], issued, read('ca.crt'));
}

/** cmesh's TlsServing (its options, chain and SNI callback) answering like the floor: cmesh's TLS set-up without the proxy. */
async function tlsOnlyServer(dir: string): Promise<Server> {
  const { TlsServing } = await import('../mesh/tls/serving.ts');
  const cert = await benchCert(dir);
  const tls = new TlsServing({ service: 'echo', cert, fallback: cert, clientAuth: 'none' });
  return tls.createServer({ allowHalfOpen: true, noDelay: true }, answer);
}

/** cmesh's HTTP proxy behind TlsServing, as the daemon builds it for `x-cmesh.tls: true` (bench/tls.ts's `--serve-tls`). */
async function cmeshServer(dir: string, upstreams: number[]): Promise<Server> {
  const { createHttpProxy, ProxyListener } = await import('../mesh/proxy/index.ts');
  const { TestPool, testMesh } = await import('../mesh/proxy/testing.ts');
  const { TlsServing } = await import('../mesh/tls/serving.ts');
  const cert = await benchCert(dir);
  const pool = new TestPool('echo', upstreams.map((p, i) => ({ id: `echo#${i + 1}`, host: '127.0.0.1', port: p })));
  const tls = new TlsServing({ service: 'echo', cert, fallback: cert, clientAuth: 'none' });
  // The listener's server, bound below without `exclusive` (ProxyListener.listen binds exclusively): cluster workers
  // must share the primary's socket.
  return new ProxyListener({ proxy: createHttpProxy({ service: 'echo', pool, mesh: testMesh() }), tls }).server;
}

/** Starts `procs` processes serving `make()` on 127.0.0.1:port; `ready` on stdout once all of them listen. */
async function serve(port: number, procs: number, make: () => Promise<Server>): Promise<void> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
  if (procs === 1 || !cluster.isPrimary) {
    const server = await make();
    server.listen({ host: '127.0.0.1', port }, () => procs === 1 && process.stdout.write('ready\n'));
    return;
  }
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let listening = 0;
  for (let i = 0; i < procs; i++) {
    cluster.fork().on('listening', () => {
      if (++listening === procs) process.stdout.write('ready\n');
    });
  }
  // A worker that dies leaves the bench with fewer processes than it reports: stop everything.
  cluster.on('exit', () => process.exit(1));
}

/** nginx with `workers` worker processes (1: master_process off, so the pid is the worker) on the same certificate. */
export function nginxHandshakeConf(dir: string, port: number, workers: number, upstreams: number[]): string {
  const d = join(dir, `nginx-${port}`);
  // Proxying like cmesh (keep-alive upstream, as bench/proxy-peers.ts) or answering itself like the node floor.
  const location =
    upstreams.length > 0
      ? 'proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;'
      : `return 200 "${BODY}";`;
  const upstream = upstreams.length > 0 ? `upstream echo { ${upstreams.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 64; }` : '';
  return `worker_processes ${workers}; daemon off; ${workers === 1 ? 'master_process off;' : ''} pid ${d}.pid; error_log ${d}-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d}-body; proxy_temp_path ${d}-proxy; fastcgi_temp_path ${d}-fcgi; uwsgi_temp_path ${d}-uwsgi; scgi_temp_path ${d}-scgi;
  ${upstream}
  server {
    listen 127.0.0.1:${port} ssl; ssl_certificate ${dir}/leaf.crt; ssl_certificate_key ${dir}/leaf.key; ssl_protocols TLSv1.2 TLSv1.3;
    location / { ${location} }
  }
}\n`;
}

export type TlsServerKind = 'nginx' | '--floor' | '--tls-only' | '--cmesh';

/**
 * Starts nginx (nginxHandshakeConf: `return 200` itself, or proxying to `upstreams`) or one of this file's child modes
 * with `procs` processes on a free port, the leaf in `dir`; the process goes into `children` at once, so a start that
 * fails is still stopped.
 */
export async function startTlsServer(kind: TlsServerKind, dir: string, procs: number, upstreams: number[], children: ChildProcess[]): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  if (kind === 'nginx') {
    const conf = join(dir, `nginx-${port}.conf`);
    writeFileSync(conf, nginxHandshakeConf(dir, port, procs, upstreams));
    const process = spawn('nginx', ['-p', dir, '-c', conf], { stdio: 'ignore' });
    children.push(process);
    await waitPort(port);
    return { port, process };
  }
  const args = [...DAEMON_V8_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url), kind, String(port), dir, String(procs), ...upstreams.map(String)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await waitReady(child, `${kind} server`);
  return { port, process: child };
}

const run = childMode(['--floor', '--tls-only', '--cmesh'] as const);
if (run !== undefined) {
  const [port, dir, procs, ...upstreams] = run.args;
  const makers = { '--floor': () => floorServer(dir!), '--tls-only': () => tlsOnlyServer(dir!), '--cmesh': () => cmeshServer(dir!, upstreams.map(Number)) };
  const make = makers[run.mode];
  await serve(Number(port), Number(procs), make);
}
