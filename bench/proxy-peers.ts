// The proxies bench/proxy-product.ts measures beside the cmesh daemon, each one process (so /proc/<pid>/stat is its
// whole CPU) round-robining with keep-alive over the same replica ports: nginx (1 worker, keepalive 64), haproxy
// (1 thread, http-reuse always), caddy (GOMAXPROCS=1) and the node floor (bench/proxy-floor.ts in a child process
// with the daemon's V8 flags). Debian packages: scripts/install-bench-peers.sh installs them.

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_V8_FLAGS } from '../cli/daemon-bundle.ts';
import { parseWrk } from './wrk.ts';

export const PATH = '/bytes?n=1024';
const PROXY_TS = fileURLToPath(new URL('./proxy.ts', import.meta.url));
const ECHO = fileURLToPath(new URL('../fixtures/docker/echo/server.mjs', import.meta.url));

/** A node echo replica (fixtures/docker/echo) on host:port. */
export function startReplica(host: string, port: number, name: string): ChildProcess {
  const env = { ...process.env, PORT: String(port), HOST: host, CMESH_REPLICA: name };
  return spawn(process.execPath, [ECHO], { env, stdio: 'ignore' });
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** utime and stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

export interface WrkResult {
  rps: number;
  requests: number;
  errors: number;
}

/** A closed loop: wrk -t1 -c64 for a fixed duration, keep-alive. */
export function wrk(port: number, seconds: number): WrkResult {
  const out = execFileSync('wrk', ['-t1', '-c64', `-d${seconds}s`, `http://127.0.0.1:${port}${PATH}`], { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
  const { rps, requests, errors } = parseWrk(out);
  return { rps, requests, errors };
}

export interface Latency {
  p50: number;
  p99: number;
  errors: number;
  sent: number;
}

/** bench/proxy.ts's open loop (--load) in a child process: latency at a fixed rate, from each request's due time. */
/**
 * An upstream a peer fronts: a loopback port, or `host:port` (a replica's own address on the bench project's network,
 * as the daemon reaches it: daemon/engine/replica-reach.ts).
 */
export type UpstreamAddr = number | string;
export const addrOf = (u: UpstreamAddr): string => (typeof u === 'number' ? `127.0.0.1:${u}` : u);

export function fixedRate(target: UpstreamAddr, rate: number, seconds: number): Latency {
  const out = execFileSync(process.execPath, ['--import', 'tsx', PROXY_TS, '--load', addrOf(target), String(rate), String(seconds)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: (seconds + 40) * 1000,
  });
  return JSON.parse(out) as Latency;
}

export interface Peer {
  name: string;
  port: number;
  process: ChildProcess;
}

/** One nginx worker (master_process off: its /proc/<pid>/stat is the worker's CPU) in front of `upstreams`, keep-alive. */
export function nginxConf(dir: string, port: number, upstreams: UpstreamAddr[]): string {
  return `worker_processes 1; daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream echo { ${upstreams.map((p) => `server ${addrOf(p)};`).join(' ')} keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}\n`;
}

function haproxyConf(port: number, upstreams: UpstreamAddr[]): string {
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option forwardfor
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend bench
  bind 127.0.0.1:${port}
  default_backend echo
backend echo
  balance roundrobin
${upstreams.map((p, i) => `  server s${i + 1} ${addrOf(p)}`).join('\n')}\n`;
}

function caddyfile(port: number, upstreams: UpstreamAddr[]): string {
  return `{
  admin off
  auto_https off
}
http://127.0.0.1:${port} {
  reverse_proxy ${upstreams.map(addrOf).join(' ')} {
    lb_policy round_robin
  }
}\n`;
}

/** Starts one peer proxy on `port` in front of `upstreams`; the caller waits for the port and kills the process. */
export function startPeer(name: 'nginx' | 'haproxy' | 'caddy' | 'floor', dir: string, port: number, upstreams: UpstreamAddr[]): Peer {
  const quiet = { stdio: 'ignore' as const };
  if (name === 'nginx') {
    writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, upstreams));
    // master_process off: the one process is the worker.
    return { name, port, process: spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], quiet) };
  }
  if (name === 'haproxy') {
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConf(port, upstreams));
    // -db: foreground, no master process, so its pid is the one that proxies.
    return { name, port, process: spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], quiet) };
  }
  if (name === 'caddy') {
    writeFileSync(join(dir, 'Caddyfile'), caddyfile(port, upstreams));
    const env = { ...process.env, GOMAXPROCS: '1', XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir };
    return { name, port, process: spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { ...quiet, env }) };
  }
  const child = spawn(process.execPath, [...DAEMON_V8_FLAGS, '--import', 'tsx', PROXY_TS, '--serve-floor', String(port), ...upstreams.map(addrOf)], quiet);
  return { name, port, process: child };
}
