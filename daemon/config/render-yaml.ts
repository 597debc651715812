// Renders a normalized ProjectSpec back to canonical compose YAML (what `cmesh config` prints), long syntax everywhere.

import { stringify } from 'yaml';
import type { FileGrant, FileSource, MeshSpec, ProjectSpec, ServiceSpec } from '../api/project.ts';
import { setOwn } from './node.ts';
import { renderContainerOptions } from './render-container-options.ts';
import { formatDuration } from './normalize/duration.ts';

type Plain = Record<string, unknown>;

/** Drops undefined fields and empty collections so the output stays as short as Compose's. */
function compact(obj: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    setOwn<unknown>(out, k, v);
  }
  return out;
}

function sortedRecord<T, U>(rec: Record<string, T>, fn: (v: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const k of Object.keys(rec).sort()) setOwn(out, k, fn(rec[k] as T));
  return out;
}

function renderMesh(m: MeshSpec): Plain {
  return compact({
    lb: m.lb,
    // Only a declared protocol: east-west treats a declared `http` differently from the default (api/east-west.ts).
    protocol: m.protocolExplicit ? m.protocol : undefined,
    weight: m.weight,
    weights: m.weights,
    health: m.healthExplicit
      ? compact({ path: m.health.path, port: m.health.port, interval: formatDuration(m.health.intervalMs), timeout: formatDuration(m.health.timeoutMs), rise: m.health.rise, fall: m.health.fall })
      : undefined,
    retries: m.retries,
    timeouts: { connect: formatDuration(m.timeouts.connectMs), request: formatDuration(m.timeouts.requestMs), idle: formatDuration(m.timeouts.idleMs) },
    bind: m.bind,
    hash_key: m.hashKey,
    access_log: m.accessLog,
    mesh: m.eastWest === false ? false : undefined,
    ports: m.ports,
  });
}

function renderService(s: ServiceSpec): Plain {
  const hc = s.healthcheck;
  return compact({
    image: s.image,
    build: s.build && compact({ context: s.build.context, ...(s.build.dockerfileInline === undefined ? { dockerfile: s.build.dockerfile } : { dockerfile_inline: s.build.dockerfileInline }), args: s.build.args, target: s.build.target, labels: s.build.labels, no_cache: s.build.noCache }),
    pull_policy: s.pullPolicy,
    platform: s.platform,
    command: s.command,
    entrypoint: s.entrypoint,
    environment: sortedRecord(s.environment, (v) => v),
    env_file: undefined,
    ports: s.ports.map((p) => compact({ target: p.target, published: p.published === undefined ? undefined : p.publishedEnd === undefined ? String(p.published) : `${p.published}-${p.publishedEnd}`, host_ip: p.hostIp, protocol: p.protocol, name: p.name, app_protocol: p.appProtocol, mode: p.mode })),
    expose: s.expose.map(String),
    deploy: { replicas: s.replicas },
    healthcheck: hc && compact({
      test: hc.test,
      interval: hc.intervalMs === undefined ? undefined : formatDuration(hc.intervalMs),
      timeout: hc.timeoutMs === undefined ? undefined : formatDuration(hc.timeoutMs),
      retries: hc.retries,
      start_period: hc.startPeriodMs === undefined ? undefined : formatDuration(hc.startPeriodMs),
      start_interval: hc.startIntervalMs === undefined ? undefined : formatDuration(hc.startIntervalMs),
      disable: hc.disable ? true : undefined,
    }),
    depends_on: sortedRecord(s.dependsOn, (d) => ({ condition: d.condition, restart: d.restart, required: d.required })),
    restart: s.restartMaxRetries === undefined ? s.restart : `${s.restart}:${s.restartMaxRetries}`,
    labels: sortedRecord(s.labels, (v) => v),
    volumes: s.volumes.map((v) => compact({ type: v.type, source: v.source, target: v.target, read_only: v.readOnly || undefined, bind: v.type === 'bind' ? { create_host_path: v.createHostPath ?? false } : undefined })),
    networks: sortedRecord(s.networks, (n) => (n.aliases.length > 0 ? { aliases: n.aliases } : null)),
    working_dir: s.workingDir,
    user: s.user,
    stop_signal: s.stopSignal,
    stop_grace_period: formatDuration(s.stopGracePeriodMs),
    profiles: s.profiles,
    develop: s.watch.length > 0 ? { watch: s.watch.map((w) => compact({ action: w.action, path: w.path, target: w.target, ignore: w.ignore })) } : undefined,
    secrets: s.secrets?.map(renderGrant),
    configs: s.configs?.map(renderGrant),
    ...renderContainerOptions(s.options),
    'x-cmesh': renderMesh(s.mesh),
  });
}

function renderGrant(g: FileGrant): Plain {
  return compact({ source: g.source, target: g.target, uid: g.uid === undefined ? undefined : String(g.uid), gid: g.gid === undefined ? undefined : String(g.gid), mode: g.mode === undefined ? undefined : `0${g.mode.toString(8)}` });
}

/** A secret's bytes are never printed: its source is (the file or the variable); a config's inline content is. */
function renderSource(f: FileSource): Plain {
  if (f.file !== undefined) return { file: f.file };
  if (f.environment !== undefined) return { environment: f.environment };
  return f.kind === 'config' ? { content: f.content } : {};
}

export function projectToComposeYaml(project: ProjectSpec): string {
  const doc = compact({
    name: project.name,
    services: sortedRecord(project.services, renderService),
    networks: sortedRecord(project.networks, (n) => compact({ name: n.engineName, external: n.external || undefined, driver: n.driver, internal: n.internal || undefined, labels: n.labels })),
    volumes: sortedRecord(project.volumes, (v) => compact({ name: v.engineName, external: v.external || undefined, driver: v.driver, labels: v.labels })),
    secrets: project.secrets && sortedRecord(project.secrets, renderSource),
    configs: project.configs && sortedRecord(project.configs, renderSource),
  });
  for (const k of Object.keys(project.extensions).sort()) setOwn(doc, k, project.extensions[k]);
  const top = compact({ east_west: project.eastWest === true ? true : undefined, target: project.target, registry: project.registry });
  if (Object.keys(top).length > 0) setOwn<unknown>(doc, 'x-cmesh', top);
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
