// Maps the engine's list/inspect JSON to ContainerInfo, including the human Status strings the list API returns.

import type Docker from 'dockerode';
import { isIPv4 } from 'node:net';
import type { ContainerHealth, ContainerInfo, ContainerState, Endpoint } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';

const STATES: readonly ContainerState[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

export function normaliseState(raw: string | undefined): ContainerState {
  const s = (raw ?? '').toLowerCase();
  return (STATES as readonly string[]).includes(s) ? (s as ContainerState) : 'dead';
}

export function normaliseHealth(raw: string | undefined): ContainerHealth {
  switch ((raw ?? '').toLowerCase()) {
    case 'starting':
      return 'starting';
    case 'healthy':
      return 'healthy';
    case 'unhealthy':
      return 'unhealthy';
    default:
      return 'none';
  }
}

/**
 * Parses the list API's Status ("Up 3 seconds (healthy)", "Up 1 minute (health: starting)", "Exited (137) 2 hours
 * ago", "Up 5 seconds (Paused)", "Restarting (1) 3 seconds ago", "Created", "Removal In Progress", "Dead").
 * `state` (the list API's State field) wins when present; Status is the fallback for older engines.
 */
export function parseListStatus(
  status: string | undefined,
  state?: string,
): { state: ContainerState; health: ContainerHealth; exitCode?: number } {
  const text = (status ?? '').trim();
  const lower = text.toLowerCase();
  let parsedState: ContainerState;
  if (state) parsedState = normaliseState(state);
  else if (lower.startsWith('up')) parsedState = /\(paused\)/.test(lower) ? 'paused' : 'running';
  else if (lower.startsWith('exited')) parsedState = 'exited';
  else if (lower.startsWith('restarting')) parsedState = 'restarting';
  else if (lower.startsWith('created')) parsedState = 'created';
  else if (lower.startsWith('removal')) parsedState = 'removing';
  else parsedState = 'dead';

  let health: ContainerHealth = 'none';
  const h = /\((?:health:\s*)?(starting|healthy|unhealthy)\)/.exec(lower);
  if (h) health = normaliseHealth(h[1]);

  const code = /^(?:exited|restarting)\s*\((-?\d+)\)/.exec(lower);
  return code?.[1] === undefined ? { state: parsedState, health } : { state: parsedState, health, exitCode: Number(code[1]) };
}

/**
 * The least time a run has lasted, from a list Status (`Up 5 seconds`, `Up About a minute (healthy)`, `Up 2 hours
 * (Paused)`): the engine writes it with go-units' HumanDuration, which rounds seconds and minutes down; from an hour on
 * it rounds, but its hour branch is only reached past 60 minutes. Undefined when the status is not an `Up` one.
 */
export function upForMs(status: string | undefined): number | undefined {
  const m = /^up\s+(.+?)(?:\s*\(.*\))?$/.exec((status ?? '').trim().toLowerCase());
  if (!m) return undefined;
  const text = m[1]!;
  if (text === 'less than a second') return 0;
  if (text === 'about a minute') return 60_000;
  const n = /^(\d+)\s+(second|minute|hour|day|week|month|year)s?$/.exec(text);
  if (!n) return /^about an hour$/.test(text) ? 3_600_000 : undefined;
  const count = Number(n[1]);
  if (n[2] === 'second') return count * 1000;
  if (n[2] === 'minute') return count * 60_000;
  return 3_600_000;
}

/** Engine timestamps: RFC3339Nano; Go's zero time means "never". */
export function parseEngineTime(raw: string | undefined): number | undefined {
  if (!raw || raw.startsWith('0001-01-01')) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(raw);
  const iso = m ? `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}` : raw;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** Every endpoint cmesh dials is on loopback: wildcard binds are reachable there, and IPv6 duplicates collapse. */
export function normaliseHostIp(ip: string | undefined): string {
  if (!ip || ip === '0.0.0.0' || ip === '::' || ip === '[::]') return '127.0.0.1';
  return ip;
}

function dedupeEndpoints(list: Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const e of list) {
    const key = `${e.containerPort}/${e.protocol}@${e.host}:${e.hostPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out.sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
}

function protocolOf(raw: string | undefined): 'tcp' | 'udp' {
  return raw === 'udp' ? 'udp' : 'tcp';
}

export function endpointsFromList(ports: Docker.Port[] | undefined): Endpoint[] {
  return dedupeEndpoints(
    (ports ?? [])
      .filter((p) => typeof p.PublicPort === 'number' && p.PublicPort > 0)
      .map((p) => ({
        containerPort: p.PrivatePort,
        protocol: protocolOf(p.Type),
        host: normaliseHostIp(p.IP),
        hostPort: p.PublicPort,
      })),
  );
}

export function endpointsFromInspect(
  ports: Record<string, { HostIp: string; HostPort: string }[] | null> | undefined,
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [port, proto] = key.split('/');
    for (const b of bindings ?? []) {
      const hostPort = Number(b.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      out.push({ containerPort: Number(port), protocol: protocolOf(proto), host: normaliseHostIp(b.HostIp), hostPort });
    }
  }
  return dedupeEndpoints(out);
}

type EngineNetworks = Record<string, { Aliases?: string[] | null; IPAddress?: string }> | undefined;

/**
 * A replica reached at its own address (replica-reach.ts): the ports its labels name, at its IPv4 address on the
 * labelled network. None before it has one (created, stopped), as a published port has none then either.
 */
export function directEndpoints(labels: Record<string, string>, networks: EngineNetworks): Endpoint[] {
  const network = labels[Labels.reachNetwork];
  const ports = labels[Labels.reachPorts];
  const ip = network === undefined ? undefined : networks?.[network]?.IPAddress;
  if (ports === undefined || ip === undefined || !isIPv4(ip)) return [];
  return ports.split(',').flatMap((key): Endpoint[] => {
    const m = /^(\d{1,5})\/(tcp|udp)$/.exec(key);
    if (!m) return [];
    const port = Number(m[1]);
    return [{ containerPort: port, protocol: protocolOf(m[2]), host: ip, hostPort: port, direct: true }];
  });
}

/**
 * The networks a container is on; the list API has no aliases, and inspect's carry the engine's short-id alias. With
 * aliases (inspect), its address on each network too, where it has one (running).
 */
export function networksOf(networks: EngineNetworks, id: string, withAliases: boolean): NonNullable<ContainerInfo['networks']> {
  return Object.entries(networks ?? {})
    .map(([name, e]) =>
      withAliases
        ? { name, aliases: (e.Aliases ?? []).filter((a) => a !== id.slice(0, 12)).sort(), ...(e.IPAddress ? { address: e.IPAddress } : {}) }
        : { name },
    )
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function fromListEntry(c: Docker.ContainerInfo): ContainerInfo {
  const parsed = parseListStatus(c.Status, c.State);
  const name = (c.Names?.[0] ?? c.Id).replace(/^\//, '');
  const up = parsed.state === 'running' || parsed.state === 'paused' ? upForMs(c.Status) : undefined;
  return {
    id: c.Id,
    name,
    image: c.Image,
    ...(c.ImageID ? { imageId: c.ImageID } : {}),
    state: parsed.state,
    health: parsed.health,
    labels: c.Labels ?? {},
    createdAt: c.Created * 1000,
    ...(up === undefined ? {} : { upForMs: up }),
    ...(parsed.exitCode === undefined ? {} : { exitCode: parsed.exitCode }),
    restartCount: 0,
    endpoints: dedupeEndpoints([...endpointsFromList(c.Ports), ...directEndpoints(c.Labels ?? {}, c.NetworkSettings?.Networks as EngineNetworks)]),
    networks: networksOf(c.NetworkSettings?.Networks as EngineNetworks, c.Id, false),
  };
}

export function fromInspect(c: Docker.ContainerInspectInfo): ContainerInfo {
  const state = normaliseState(c.State?.Status);
  const startedAt = parseEngineTime(c.State?.StartedAt);
  const finishedAt = parseEngineTime(c.State?.FinishedAt);
  // ExitCode is 0 while running and before the first exit; only report it once the container has stopped.
  const stopped = state === 'exited' || state === 'dead' || (state === 'restarting' && finishedAt !== undefined);
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config?.Image ?? c.Image,
    ...(c.Image ? { imageId: c.Image } : {}),
    state,
    health: normaliseHealth(c.State?.Health?.Status),
    labels: c.Config?.Labels ?? {},
    createdAt: parseEngineTime(c.Created) ?? 0,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(finishedAt === undefined ? {} : { finishedAt }),
    ...(stopped ? { exitCode: c.State.ExitCode } : {}),
    restartCount: c.RestartCount ?? 0,
    endpoints: dedupeEndpoints([
      ...endpointsFromInspect(c.NetworkSettings?.Ports),
      ...directEndpoints(c.Config?.Labels ?? {}, c.NetworkSettings?.Networks as EngineNetworks),
    ]),
    networks: networksOf(c.NetworkSettings?.Networks as EngineNetworks, c.Id, true),
  };
}
