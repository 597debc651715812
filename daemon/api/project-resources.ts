// The project's named resources (networks, volumes, secrets, configs) and how a service joins or is granted them.
// Part of the project model (project.ts re-exports these names).

import type { KubernetesClaim } from './kubernetes-claim.ts';

/** A top-level `secrets:` or `configs:` entry: where its bytes come from. Content is resolved at load time. */
export interface FileSource {
  name: string;
  kind: 'secret' | 'config';
  /** `file:` — absolute host path, bind-mounted read-only (so edits show up live, as in Compose). */
  file?: string;
  /** `environment:` — the variable's name (for display) and its value at load time. */
  environment?: string;
  /** `content:` (configs) or the `environment:` variable's value. Never logged, never put in an image. */
  content?: string;
}

/** A service's grant of a secret or config: the file it appears as inside the container. */
export interface FileGrant {
  source: string;
  /** Absolute path in the container (`/run/secrets/<name>` for secrets, `/<name>` for configs by default). */
  target: string;
  uid?: number;
  gid?: number;
  /** File mode, e.g. 0o444 (the default). */
  mode?: number;
}

/** `services.<name>.networks.<net>`: the endpoint a service's containers get on one network. */
export interface ServiceNetwork {
  aliases: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  linkLocalIps?: string[];
  /** Per-endpoint MAC address (Engine API 1.44). */
  macAddress?: string;
  /** Connect order: higher first (Compose `priority`). */
  priority?: number;
  /** Which network supplies the default gateway (Engine API 1.48). */
  gwPriority?: number;
  driverOpts?: Record<string, string>;
  /** Interface name inside the container (Engine API 1.49, as the driver option com.docker.network.endpoint.ifname). */
  interfaceName?: string;
}

export interface IpamPool {
  subnet?: string;
  ipRange?: string;
  gateway?: string;
  auxAddresses?: Record<string, string>;
}

export interface IpamSpec {
  driver?: string;
  config: IpamPool[];
  options?: Record<string, string>;
}

export interface NetworkSpec {
  name: string;
  /** Engine-level name (`<project>_<name>` unless `name:` or external). */
  engineName: string;
  external: boolean;
  driver?: string;
  internal: boolean;
  labels: Record<string, string>;
  driverOpts?: Record<string, string>;
  attachable?: boolean;
  enableIpv6?: boolean;
  /** `enable_ipv4: false` needs Engine API 1.48. */
  enableIpv4?: boolean;
  ipam?: IpamSpec;
}

export interface VolumeSpec {
  name: string;
  engineName: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
  driverOpts?: Record<string, string>;
  /** `x-cmesh.kubernetes`: the claim `cmesh export kubernetes` makes for it. */
  kubernetes?: KubernetesClaim;
}
