// Registry credentials for a pull, read from the user's Docker config as the docker CLI reads them: `credHelpers`,
// then `credsStore`, then `auths` (base64 `auth`, `username`/`password`, `identitytoken`). This is client-side work in
// Docker too (the CLI sends X-Registry-Auth), so it lives beside the daemon's pull logic, not in the engine adapter:
// the engine port only carries the resolved RegistryAuth, and the fake engine can check it. Secrets are never logged.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RegistryAuth } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import { registryHost } from './engine/pull-progress.ts';

/** The key Docker Hub credentials are stored under (the CLI's IndexServer). */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HELPER_TIMEOUT_MS = 10_000;

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export interface AuthLookupOptions {
  /** The Docker config directory: DOCKER_CONFIG, else ~/.docker. */
  configDir?: string;
  /** Environment for credential helpers (PATH finds `docker-credential-<name>`). */
  env?: NodeJS.ProcessEnv;
}

/** The config directory the docker CLI would use in `env`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ? env.DOCKER_CONFIG : join(env.HOME ?? homedir(), '.docker');
}

/** The config key for an image's registry: Docker Hub's URL for docker.io images, else the host[:port]. */
export function authConfigKey(image: string): string {
  const host = registryHost(image);
  return host === 'docker.io' || host === 'index.docker.io' ? DOCKER_HUB_KEY : host;
}

/** `https://host:port/v1/` → `host:port`, as the CLI compares stored keys with the wanted one. */
export function hostnameOf(key: string): string {
  const stripped = key.replace(/^https?:\/\//, '');
  return stripped.split('/')[0] ?? stripped;
}

export async function readDockerConfig(configDir: string): Promise<DockerConfigFile> {
  const file = join(configDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CmeshError('CMESH_E_CONFIG_READ', `cannot read the Docker config ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as DockerConfigFile;
  } catch (err) {
    throw new CmeshError('CMESH_E_CONFIG_READ', `the Docker config ${file} is not valid JSON: ${(err as Error).message}`, {
      hint: 'fix or remove the file (docker login rewrites it)',
      cause: err,
    });
  }
}

/** Credentials for pulling `image`, or undefined to pull anonymously. */
export async function resolveRegistryAuth(image: string, options: AuthLookupOptions = {}): Promise<RegistryAuth | undefined> {
  const env = options.env ?? process.env;
  const config = await readDockerConfig(options.configDir ?? dockerConfigDir(env));
  const key = authConfigKey(image);
  const host = hostnameOf(key);
  // The CLI's order: a per-registry helper, else the default store, else the plain file.
  const helper = config.credHelpers?.[host] ?? config.credHelpers?.[key] ?? config.credsStore;
  if (helper) return fromHelper(helper, key, env);
  const entry = config.auths?.[key] ?? Object.entries(config.auths ?? {}).find(([k]) => hostnameOf(k) === host)?.[1];
  return entry ? fromEntry(key, entry) : undefined;
}

function fromEntry(key: string, entry: AuthEntry): RegistryAuth | undefined {
  let { username, password } = entry;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new CmeshError('CMESH_E_CONFIG_READ', `the Docker config entry for ${key} has an invalid \`auth\` (expected base64 of user:password)`, {
        hint: `run docker login ${hostnameOf(key)} again`,
      });
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (!username && !password && !entry.identitytoken) return undefined;
  return {
    serveraddress: key,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
  };
}

/** Runs `docker-credential-<name> get` with the server URL on stdin, as the docker CLI does. */
async function fromHelper(name: string, key: string, env: NodeJS.ProcessEnv): Promise<RegistryAuth | undefined> {
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr } = await runHelper(program, key, env);
  if (code !== 0) {
    // The helpers' protocol: "credentials not found" means anonymous, not failure.
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw new CmeshError('CMESH_E_PULL_UNAUTHORIZED', `the credential helper ${program} failed for ${key}: ${(stderr || stdout).trim().slice(0, 300)}`, {
      hint: `check the helper works: echo ${key} | ${program} get`,
    });
  }
  let out: { Username?: unknown; Secret?: unknown };
  try {
    out = JSON.parse(stdout) as typeof out;
  } catch {
    throw new CmeshError('CMESH_E_PULL_UNAUTHORIZED', `the credential helper ${program} printed no JSON for ${key}`);
  }
  const user = typeof out.Username === 'string' ? out.Username : '';
  const secret = typeof out.Secret === 'string' ? out.Secret : '';
  if (secret === '') return undefined;
  // Helpers store identity tokens under the username "<token>" (docker/cli credentials/native_store.go).
  if (user === '<token>') return { serveraddress: key, identitytoken: secret };
  return { serveraddress: key, username: user, password: secret };
}

function runHelper(program: string, input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new CmeshError('CMESH_E_PULL_UNAUTHORIZED', `the Docker config names the credential helper ${program}, which is not on PATH`, {
              hint: `install ${program}, or remove it from credsStore/credHelpers in the Docker config`,
            })
          : err,
      );
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
