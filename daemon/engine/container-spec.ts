// Translates cmesh's ContainerCreateSpec into the engine's create body (pure, so the mapping is unit-tested).

import type Docker from 'dockerode';
import type { ContainerCreateSpec } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { HealthcheckSpec } from '../api/project.ts';
import { applyContainerOptions } from './container-options.ts';
import { mountFields } from './mounts.ts';
import { endpointSettings } from './network-specs.ts';

const NS_PER_MS = 1_000_000;

export function healthcheckToDocker(h: HealthcheckSpec): Docker.HealthConfig {
  if (h.disable || h.test[0] === 'NONE') return { Test: ['NONE'] };
  const out: Docker.HealthConfig = { Test: h.test };
  if (h.intervalMs !== undefined) out.Interval = h.intervalMs * NS_PER_MS;
  if (h.timeoutMs !== undefined) out.Timeout = h.timeoutMs * NS_PER_MS;
  if (h.retries !== undefined) out.Retries = h.retries;
  if (h.startPeriodMs !== undefined) out.StartPeriod = h.startPeriodMs * NS_PER_MS;
  // StartInterval needs API 1.44; older engines ignore the unknown field.
  if (h.startIntervalMs !== undefined) out.StartInterval = h.startIntervalMs * NS_PER_MS;
  return out;
}

/**
 * `direct`: the daemon reaches this replica at its address on `spec.reachNetwork` (replica-reach.ts), so its ports are
 * exposed but not published, and labels say where to find them.
 */
export function createOptions(spec: ContainerCreateSpec, direct = false): Docker.ContainerCreateOptions {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const reached: string[] = [];
  for (const p of spec.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    if (direct && spec.reachNetwork !== undefined && p.hostPort === undefined) {
      reached.push(key);
      continue;
    }
    // Loopback only, engine-assigned: the mesh proxy owns the user-facing ports and dials replicas here. Only a
    // one-off (`cmesh run -p`) asks for a fixed host port, still on loopback.
    bindings[key] = [{ HostIp: '127.0.0.1', HostPort: p.hostPort === undefined ? '' : String(p.hostPort) }];
  }
  const first = spec.networks[0];
  const body: Docker.ContainerCreateOptions = {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: reached.length === 0 ? spec.labels : { ...spec.labels, [Labels.reachNetwork]: spec.reachNetwork!, [Labels.reachPorts]: reached.join(',') },
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      Init: spec.init,
      ...mountFields(spec.mounts),
      // cmesh supervises restarts itself (backoff, max retries, health-aware, visible as events); an engine restart
      // policy would race with the supervisor and hide crashes from it.
      RestartPolicy: { Name: 'no' },
      ...(spec.autoRemove ? { AutoRemove: true } : {}),
      ...(first ? { NetworkMode: first.name } : {}),
    },
    ...(first
      ? { NetworkingConfig: { EndpointsConfig: { [first.name]: endpointSettings(first) } } }
      : {}),
  };
  // Engines before API 1.44 ignore an endpoint's MacAddress and read only the container's; later ones accept both when
  // they agree. A MAC on another network needs 1.44 (engine-compat.ts refuses it on older engines).
  if (first?.macAddress) body.MacAddress = first.macAddress;
  if (spec.command) body.Cmd = spec.command;
  if (spec.entrypoint) body.Entrypoint = spec.entrypoint;
  if (spec.healthcheck) body.Healthcheck = healthcheckToDocker(spec.healthcheck);
  if (spec.workingDir) body.WorkingDir = spec.workingDir;
  if (spec.user) body.User = spec.user;
  if (spec.hostname) body.Hostname = spec.hostname;
  if (spec.stopSignal) body.StopSignal = spec.stopSignal;
  if (spec.stopTimeoutSec !== undefined) body.StopTimeout = spec.stopTimeoutSec;
  if (spec.tty) body.Tty = true;
  if (spec.openStdin) Object.assign(body, { OpenStdin: true, StdinOnce: true, AttachStdin: true });
  if (spec.options) {
    const fromMounts = body.HostConfig?.Tmpfs;
    applyContainerOptions(body, spec.options);
    // Service-level `tmpfs:` and tmpfs `volumes:` entries share HostConfig.Tmpfs.
    if (fromMounts && body.HostConfig) body.HostConfig.Tmpfs = { ...fromMounts, ...body.HostConfig.Tmpfs };
  }
  return body;
}
