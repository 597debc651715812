// Compose's `use_api_socket: true`, as `docker run --use-api-socket` does it: the engine's socket is bind-mounted at
// /var/run/docker.sock, and the user's registry credentials (resolved from the Docker config, helpers included) are
// granted as a secret at /run/secrets/docker/config.json with DOCKER_CONFIG pointing there, so the container acts as a
// delegate of the user. The credentials travel like any secret (file-grants.ts): 0600, never logged, never in an image.

import { CmeshError } from './api/errors.ts';
import type { FileSource, ProjectSpec, ServiceSpec } from './api/project.ts';
import { DOCKER_HUB_KEY, dockerConfigDir, hostnameOf, readDockerConfig, resolveRegistryAuth } from './registry-auth.ts';

export const API_SOCKET_TARGET = '/var/run/docker.sock';
export const CREDENTIALS_SECRET = '#docker_config';
const CREDENTIALS_DIR = '/run/secrets/docker';

/** The socket's host path from the engine's address (`unix:///var/run/docker.sock`); other transports cannot be mounted. */
export function socketPath(engineHost: string): string {
  if (engineHost.startsWith('unix://')) return engineHost.slice('unix://'.length);
  if (engineHost.startsWith('/')) return engineHost;
  throw new CmeshError('CMESH_E_ENGINE_UNSUPPORTED', `use_api_socket needs an engine reached through a local unix socket; this one is at ${engineHost}`, {
    hint: 'run cmesh against the local engine socket (DOCKER_HOST=unix:///var/run/docker.sock), or drop use_api_socket',
  });
}

/** `{auths: {key: {auth}}}` for every registry the user's Docker config knows credentials for. */
export async function credentialsConfig(configDir: string): Promise<string | undefined> {
  const config = await readDockerConfig(configDir);
  const keys = [...new Set([...Object.keys(config.auths ?? {}), ...Object.keys(config.credHelpers ?? {})])].sort();
  const auths: Record<string, { auth?: string; identitytoken?: string }> = {};
  for (const key of keys) {
    // resolveRegistryAuth looks up by image; an image on that registry finds the same entry the docker CLI would.
    const image = key === DOCKER_HUB_KEY ? 'docker.io/library/x' : `${hostnameOf(key)}/x`;
    const auth = await resolveRegistryAuth(image, { configDir });
    if (auth === undefined) continue;
    auths[auth.serveraddress] = {
      ...(auth.username !== undefined || auth.password !== undefined ? { auth: Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64') } : {}),
      ...(auth.identitytoken ? { identitytoken: auth.identitytoken } : {}),
    };
  }
  return Object.keys(auths).length > 0 ? `${JSON.stringify({ auths }, null, 2)}\n` : undefined;
}

/** The project with each `use_api_socket` service given the socket and, when there are any, the credentials. */
export async function withApiSocket(project: ProjectSpec, engineHost: string, configDir?: string): Promise<ProjectSpec> {
  const users = Object.values(project.services).filter((s) => s.useApiSocket);
  if (users.length === 0) return project;
  const source = socketPath(engineHost);
  const credentials = await credentialsConfig(configDir ?? dockerConfigDir());
  const services: Record<string, ServiceSpec> = { ...project.services };
  for (const s of users) {
    const next: ServiceSpec = { ...s, volumes: [...s.volumes, { type: 'bind', source, target: API_SOCKET_TARGET, readOnly: false }] };
    if (credentials !== undefined) {
      next.secrets = [...(s.secrets ?? []), { source: CREDENTIALS_SECRET, target: `${CREDENTIALS_DIR}/config.json`, mode: 0o600 }];
      next.environment = { ...s.environment, DOCKER_CONFIG: CREDENTIALS_DIR };
    }
    services[s.name] = next;
  }
  if (credentials === undefined) return { ...project, services };
  const secret: FileSource = { name: CREDENTIALS_SECRET, kind: 'secret', content: credentials };
  return { ...project, services, secrets: { ...project.secrets, [CREDENTIALS_SECRET]: secret } };
}
