// The engine port's image side (daemon/api/engine.ts): what an image is, and how builds and pulls are asked for and
// report progress. Part of the engine contract (engine.ts re-exports these names).

import type { Readable } from 'node:stream';

/**
 * A reference as the engine lists its tags: `name` gets its implied `:latest`; a tagged name, a digest reference
 * (`name@sha256:…`) or an image id (`sha256:…`) stays as it is. The tag is after a colon that follows the last slash
 * (a registry may have a port: `host:5000/app` is untagged).
 */
export function withLatestTag(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1).includes(':') ? ref : `${ref}:latest`;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  /** Bytes on disk, when the engine says (`cmesh images`). */
  size?: number;
  /** When the image was built (ms since the epoch), when the engine says: a just-built image is not stale yet. */
  created?: number;
  /**
   * When a tag was last put on the image (ms; the engine's Metadata.LastTagTime): a build sets it, and so does tagging
   * it again with a tag it already has (tagImage). Inspect only (the engine's image list does not have it).
   */
  lastTagTime?: number;
  /** The image's `EXPOSE` ports (its config's ExposedPorts, inherited ones included), sorted; none: empty. */
  exposedPorts: ExposedPort[];
}

/** What the engine's image list tells about an image. */
export type ImageSummary = Omit<ImageInfo, 'exposedPorts' | 'lastTagTime'>;

export interface ExposedPort {
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** Parses the engine's ExposedPorts keys (`"5432/tcp"`, `"53/udp"`, a bare `"80"` is TCP) into sorted ports. */
export function parseExposedPorts(exposed: Record<string, unknown> | null | undefined): ExposedPort[] {
  const out: ExposedPort[] = [];
  for (const key of Object.keys(exposed ?? {})) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(key.trim());
    const port = Number(m?.[1]);
    if (!m || !(port > 0 && port < 65536)) continue;
    out.push({ port, protocol: (m[2]?.toLowerCase() ?? 'tcp') as ExposedPort['protocol'] });
  }
  return out.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

export interface BuildOptions {
  /** A tar of the build context (the builder makes it deterministic). */
  context: Readable;
  /** Dockerfile path inside the context tar. */
  dockerfile: string;
  tags: string[];
  args?: Record<string, string>;
  target?: string;
  /** The image's labels. */
  labels?: Record<string, string>;
  /** The Dockerfile already sets `labels` (one LABEL line, builder/label-line.ts): not sent as the build parameter. */
  labelsInDockerfile?: boolean;
  noCache?: boolean;
  /** `host:ip` lines for the RUN steps' /etc/hosts (build `extrahosts`). */
  extraHosts?: string[];
  /** RUN steps' network (build `networkmode`). */
  networkMode?: string;
  shmSizeBytes?: number;
  ulimits?: { name: string; soft: number; hard: number }[];
  /** Always pull the FROM images (build `pull`). */
  pull?: boolean;
  /** Images to take cached layers from (build `cachefrom`). */
  cacheFrom?: string[];
  /** `os/arch[/variant]` (build `platform`). */
  platform?: string;
  signal?: AbortSignal;
}

/** One parsed NDJSON line of build output. An `error` line is a failure even on HTTP 200. */
export type BuildProgress =
  | { kind: 'step'; step: number; total: number; text: string }
  | { kind: 'output'; text: string }
  | { kind: 'error'; message: string }
  | { kind: 'done'; imageId: string };

/** What the engine sends as X-Registry-Auth; the daemon resolves it from the user's Docker config (registry-auth.ts). */
export interface RegistryAuth {
  /** The config key it came from, e.g. `https://index.docker.io/v1/` or `127.0.0.1:5000`. */
  serveraddress: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface PullOptions {
  /** A full reference (`name:tag` or `name@digest`); a bare name means `:latest`. */
  ref: string;
  /** `os/arch[/variant]`. */
  platform?: string;
  auth?: RegistryAuth;
  /** Fails the pull with CMESH_E_PULL_FAILED when the engine sends nothing for this long (unreachable registry). */
  stallMs?: number;
  signal?: AbortSignal;
}

/** One parsed NDJSON line of pull output. Error lines never surface as items: the iterator throws a typed error. */
export type PullProgress =
  | { kind: 'layer'; id: string; status: string; current?: number; total?: number }
  | { kind: 'status'; text: string };
