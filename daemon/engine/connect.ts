// Resolves which engine to talk to: an explicit host, else DOCKER_HOST (parsed by docker-modem), else the default socket.

import type Docker from 'dockerode';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface EngineTarget {
  /** Options for `new Docker(…)`; empty means "let docker-modem read DOCKER_HOST and its TLS variables". */
  options: Docker.DockerOptions;
  /** Human form for messages, e.g. unix:///var/run/docker.sock. */
  description: string;
  /** The DOCKER_HOST value when it chose the target (error hints mention it). */
  dockerHost?: string;
}

export function resolveEngineTarget(host?: string, env: NodeJS.ProcessEnv = process.env): EngineTarget {
  if (host !== undefined && host !== '') return { options: parseHost(host), description: describe(host) };
  const fromEnv = env.DOCKER_HOST;
  // docker-modem's own DOCKER_HOST parsing also honours DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, so defer to it.
  if (fromEnv) return { options: {}, description: describe(fromEnv), dockerHost: fromEnv };
  // Pin the system socket: docker-modem would otherwise prefer ~/.docker/run/docker.sock when it exists.
  return { options: { socketPath: DEFAULT_SOCKET }, description: `unix://${DEFAULT_SOCKET}` };
}

/** Parses an explicit host the way docker-modem parses DOCKER_HOST (unix://, tcp://, http(s)://, ssh://, bare path). */
export function parseHost(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) || DEFAULT_SOCKET };
  if (host.startsWith('/')) return { socketPath: host };
  if (host.startsWith('npipe://')) return { socketPath: host.slice('npipe://'.length) || '//./pipe/docker_engine' };
  const url = new URL(host.includes('//') ? host : `tcp://${host}`);
  const port = url.port || (url.protocol === 'ssh:' ? '22' : '2375');
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port, ...(url.username ? { username: url.username } : {}) };
  }
  const https = url.protocol === 'https:' || port === '2376';
  return { protocol: https ? 'https' : 'http', host: url.hostname, port };
}

function describe(host: string): string {
  if (host.startsWith('/')) return `unix://${host}`;
  return host.includes('//') ? host : `tcp://${host}`;
}
