// nginx on the east-west path for bench/east-west.ts: no registry here, so the image is made like cmesh/node:local —
// FROM scratch with the host's Debian nginx binary (apt-get install -y nginx) and the libraries `ldd` lists — plus a
// config that proxies to the given replica addresses the way bench/proxy.ts's nginx does (1 worker, keepalive 64).
// The image and container carry the run's test labels, so the bench's label sweep removes them.
// Options for bench/east-west.ts --sidecar: `network` may be `container:<caller>` (nginx in the caller's network
// namespace, reached over loopback), and `stream` makes it a per-connection TCP balancer (ngx_stream_module, Debian's
// libnginx-mod-stream) over the same upstreams instead of an HTTP proxy.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, testLabels } from '../test/helpers/docker.ts';

export const NGINX_PORT = 8080;
/** Where Debian's libnginx-mod-stream puts the stream module (loaded by the `stream` variant). */
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface NginxOptions {
  /** Container name suffix after the run id (default `nginx`); also the image tag's. */
  name?: string;
  port?: number;
  /** A TCP balancer per connection (round robin) instead of the HTTP proxy. */
  stream?: boolean;
}

/** Whether the host's nginx can load the stream module (apt-get install -y libnginx-mod-stream). */
export const hostStreamModule = (): boolean => existsSync(STREAM_MODULE);

/** The host's nginx binary, or undefined when it is not installed. */
export function hostNginx(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function streamConf(upstreams: string[], port: number): string {
  return `load_module ${STREAM_MODULE};
worker_processes 1; daemon off; master_process off; pid /tmp/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
stream {
  upstream echo { ${upstreams.map((u) => `server ${u};`).join(' ')} }
  server { listen ${port}; proxy_pass echo; }
}\n`;
}

function nginxConf(upstreams: string[], port = NGINX_PORT): string {
  return `worker_processes 1; daemon off; master_process off; pid /tmp/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fcgi; uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  upstream echo { ${upstreams.map((u) => `server ${u};`).join(' ')} keepalive 64; }
  server {
    listen ${port};
    location / {
      proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}\n`;
}

/** Builds the image and starts nginx on `network`; returns the container id (removed by the run's label sweep). */
export async function startNginx(bin: string, runId: string, network: string, upstreams: string[], o: NginxOptions = {}): Promise<string> {
  const name = o.name ?? 'nginx';
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-bench-nginx-'));
  try {
    const root = join(dir, 'rootfs');
    const put = (from: string, to: string): void => {
      mkdirSync(dirname(join(root, to)), { recursive: true });
      copyFileSync(realpathSync(from), join(root, to));
    };
    const binaries = o.stream ? [bin, STREAM_MODULE] : [bin];
    put(bin, '/usr/sbin/nginx');
    if (o.stream) put(STREAM_MODULE, STREAM_MODULE);
    for (const file of binaries) for (const [, lib] of execFileSync('ldd', [file], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)) put(lib!, lib!);
    mkdirSync(join(root, 'etc/nginx'), { recursive: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
    // nginx running as root looks up the user `nobody` while it reads its config, even with master_process off.
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    const port = o.port ?? NGINX_PORT;
    writeFileSync(join(root, 'etc/nginx/nginx.conf'), o.stream ? streamConf(upstreams, port) : nginxConf(upstreams, port));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/usr/sbin/nginx", "-e", "stderr", "-p", "/tmp/", "-c", "/etc/nginx/nginx.conf"]\n');
    const labels = Object.entries(testLabels(runId)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const tag = `cmesh-bench/nginx:${o.name === undefined ? runId : `${runId}-${name}`}`;
    execFileSync('docker', ['build', '-q', ...labels, '-t', tag, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    return (await run(['run', '-d', ...labels, '--name', `${runId}-${name}`, '--network', network, tag])).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
