// The merged compose document → ProjectSpec: top-level keys, project name, services, profiles and cross-references.

import { eastWestPlan } from '../../api/east-west.ts';
import type { FileSource, ProjectSpec, ServiceSpec } from '../../api/project.ts';
import { get, setOwn, toPlain, type YMap } from '../node.ts';
import { SERVICE_NAME, TOP_LEVEL_KEYS, TOP_LEVEL_UNSUPPORTED } from '../schema.ts';
import { type ProjectMeshSettings, readProjectMesh } from '../x-cmesh.ts';
import { checkCycles, type DependencyNodes } from './depends-on.ts';
import { readFileSources } from './file-grants.ts';
import { isValidProjectName, pickProjectName } from './project-name.ts';
import { checkKeys, type Ctx, readMap, readString } from './read.ts';
import { applyLinkAliases } from './service-links.ts';
import { checkStaticAddresses } from './service-networks.ts';
import { readService, type ServiceRefs } from './service.ts';
import { readNetworks, readVolumeSection } from './top-level.ts';
import { checkRouteTargets } from '../policy-targets.ts';

export interface DocumentOptions {
  projectName?: string;
  envProjectName?: string;
  files: string[];
  profiles: string[];
}

export function buildProject(ctx: Ctx, root: YMap, opts: DocumentOptions): ProjectSpec {
  checkKeys(ctx, root, [], { supported: TOP_LEVEL_KEYS, unsupported: TOP_LEVEL_UNSUPPORTED });
  const version = root.entries.get('version');
  if (version !== undefined) ctx.issues.warn(version.keyPos, ['version'], 'the top-level "version" key is obsolete and ignored');

  const nameNode = get(root, 'name');
  const fileName = nameNode === undefined ? undefined : readString(ctx, nameNode, ['name']);
  const picked = pickProjectName({ flag: opts.projectName, file: fileName, env: opts.envProjectName, projectDir: ctx.projectDir });
  if (!isValidProjectName(picked.name)) {
    const why =
      picked.source === 'directory'
        ? `cannot derive a project name from the directory "${ctx.projectDir}"`
        : `"${picked.name.slice(0, 60)}" is not a valid project name`;
    const from = { flag: '-p', file: 'the `name:` key', env: 'COMPOSE_PROJECT_NAME', directory: 'the directory name' }[picked.source];
    // A name from -p, the environment or the directory has no place in the file; point at the file's start.
    const at = picked.source === 'file' && nameNode ? nameNode.pos : { file: opts.files[0] ?? '', line: 1, col: 1 };
    ctx.issues.error(at, picked.source === 'file' ? ['name'] : undefined, `${why} (from ${from})`, 'use only lowercase letters, digits, "_" and "-", starting with a letter or digit (set one with -p)');
  }
  const project = picked.name;

  let projectMesh: ProjectMeshSettings = { defaults: {} };
  const extensions: Record<string, unknown> = {};
  for (const e of root.entries.values()) {
    if (e.key === 'x-cmesh') projectMesh = readProjectMesh(ctx, e.value, ['x-cmesh']);
    else if (e.key.startsWith('x-')) setOwn(extensions, e.key, toPlain(e.value));
  }

  const networks = readNetworks(ctx, get(root, 'networks'), project);
  const volumes = readVolumeSection(ctx, get(root, 'volumes'), project);
  const secrets = readFileSources(ctx, get(root, 'secrets'), 'secret');
  const configs = readFileSources(ctx, get(root, 'configs'), 'config');

  const all = new Map<string, { spec: ServiceSpec; refs: ServiceRefs }>();
  const servicesNode = get(root, 'services');
  const services = servicesNode === undefined ? undefined : readMap(ctx, servicesNode, ['services']);
  if (services === undefined && servicesNode === undefined) ctx.issues.warn(root.pos, [], 'no `services:` defined');
  for (const entry of services?.entries.values() ?? []) {
    if (!SERVICE_NAME.test(entry.key)) {
      ctx.issues.error(entry.keyPos, ['services', entry.key], `invalid service name "${entry.key.slice(0, 60)}"`, 'use letters, digits, ".", "_" and "-", starting with a letter or digit');
      continue;
    }
    const s = readService(ctx, entry, projectMesh.defaults);
    if (s !== undefined) all.set(entry.key, s);
  }

  const active = new Set<string>();
  const wildcard = opts.profiles.includes('*');
  for (const [name, { spec }] of all) {
    if (spec.profiles.length === 0 || wildcard || spec.profiles.some((p) => opts.profiles.includes(p))) active.add(name);
  }

  const usesDefault = checkReferences(ctx, all, active, new Set(Object.keys(networks)), new Set(Object.keys(volumes)));
  checkFileGrants(ctx, all, secrets, configs);
  for (const [name, { refs }] of all) applyLinkAliases(all, name, refs.linkAliases);
  for (const name of active) checkStaticAddresses(ctx, all.get(name)!.spec, all.get(name)!.refs.networks, networks);
  if (usesDefault && networks['default'] === undefined) {
    networks['default'] = { name: 'default', engineName: `${project}_default`, external: false, internal: false, labels: {} };
  }

  const out: Record<string, ServiceSpec> = {};
  for (const name of active) setOwn(out, name, all.get(name)!.spec);
  checkRouteTargets(ctx, out, new Map([...all].map(([k, v]) => [k, v.spec])));
  const spec: ProjectSpec = { name: project, workingDir: ctx.projectDir, files: opts.files, services: out, networks, volumes, profiles: [...opts.profiles], extensions };
  if (projectMesh.target !== undefined) spec.target = projectMesh.target;
  if (projectMesh.registry !== undefined) spec.registry = projectMesh.registry;
  if (secrets !== undefined) spec.secrets = secrets;
  if (configs !== undefined) spec.configs = configs;
  // East-west is on unless the project says `east_west: false` (kept explicit so `cmesh config` renders it back).
  spec.eastWest = projectMesh.eastWest !== false;
  if (projectMesh.eastWest === true) {
    // Asked for in so many words: a service left on plain DNS says why (an explicit `mesh: false` is not news). By
    // default a port-less service (a worker nobody calls) is simply not meshed, without a warning on every file.
    for (const s of eastWestPlan(spec).skipped) {
      if (s.reason.startsWith('x-cmesh.mesh')) continue;
      ctx.issues.warn(out[s.service]?.position, ['services', s.service], `east-west: ${s.service} is not meshed: ${s.reason}`);
    }
  }
  return spec;
}

/** Every secret or config a service grants itself must be declared at the top level. */
function checkFileGrants(
  ctx: Ctx,
  all: Map<string, { spec: ServiceSpec; refs: ServiceRefs }>,
  secrets: Record<string, FileSource> | undefined,
  configs: Record<string, FileSource> | undefined,
): void {
  for (const [name, { refs }] of all) {
    for (const [kind, declared, list] of [['secret', secrets, refs.secrets], ['config', configs, refs.configs]] as const) {
      for (const r of list) {
        if (declared === undefined || !Object.hasOwn(declared, r.name)) {
          ctx.issues.error(r.node.pos, r.path, `service "${name}" refers to undefined ${kind} "${r.name}"`, `declare it under the top-level \`${kind}s:\``);
        }
      }
    }
  }
}

/** Checks depends_on, named volumes and networks; returns whether an active service sits on `default`. */
function checkReferences(
  ctx: Ctx,
  all: Map<string, { spec: ServiceSpec; refs: ServiceRefs }>,
  active: Set<string>,
  networks: Set<string>,
  volumes: Set<string>,
): boolean {
  let usesDefault = false;
  const graph = new Map<string, string[]>();
  const where = new Map<string, DependencyNodes>();
  for (const [name, { spec, refs }] of all) {
    for (const v of refs.volumes) {
      if (!volumes.has(v.name)) ctx.issues.error(v.node.pos, v.path, `service "${name}" refers to undefined volume "${v.name}"`, `declare it under the top-level \`volumes:\` (or use "./${v.name}" for a host path)`);
    }
    for (const n of refs.networks) {
      if (!networks.has(n.name) && n.name !== 'default') ctx.issues.error(n.node.pos, n.path, `service "${name}" refers to undefined network "${n.name}"`, 'declare it under the top-level `networks:`');
    }
    if (!active.has(name)) continue;
    if ('default' in spec.networks) usesDefault = true;
    const edges: string[] = [];
    for (const [dep, at] of refs.deps) {
      const target = all.get(dep);
      const cfg = spec.dependsOn[dep];
      if (dep === name) {
        ctx.issues.error(at.node.pos, at.path, `service "${name}" depends on itself`);
      } else if (target === undefined) {
        if (cfg?.required === false) ctx.issues.warn(at.node.pos, at.path, `optional dependency "${dep}" is not defined; ignored`);
        else ctx.issues.error(at.node.pos, at.path, `service "${name}" depends on undefined service "${dep}"`, `known services: ${[...all.keys()].join(', ')}`);
      } else if (!active.has(dep)) {
        if (cfg?.required === false) ctx.issues.warn(at.node.pos, at.path, `optional dependency "${dep}" is disabled by profiles; ignored`);
        else ctx.issues.error(at.node.pos, at.path, `service "${name}" depends on "${dep}", which is disabled by profiles`, `activate it with --profile ${target.spec.profiles[0] ?? ''}`);
      } else {
        edges.push(dep);
        continue;
      }
      delete spec.dependsOn[dep];
    }
    graph.set(name, edges);
    where.set(name, refs.deps);
  }
  checkCycles(graph, where, ctx.issues);
  return usesDefault;
}
