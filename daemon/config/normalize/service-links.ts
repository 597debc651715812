// Keys that tie a service to its neighbours' containers: `volumes_from` (HostConfig.VolumesFrom) and `links`/
// `external_links`. A neighbour service must be created first: each adds an implicit `depends_on` (service_started),
// as Compose does. Links follow Compose v2 on user-defined networks: `db:database` makes `database` an alias of db.

import type { ServiceSpec } from '../../api/project.ts';
import type { YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import type { DependencyNodes } from './depends-on.ts';
import { type Ctx, readString, typeError } from './read.ts';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** A `links` alias to add to the linked service's endpoints once every service is read. */
export interface LinkAlias {
  service: string;
  alias: string;
  node: YNode;
  path: PathSeg[];
}

function implicitDependency(spec: ServiceSpec, deps: DependencyNodes, dep: string, node: YNode, path: PathSeg[]): void {
  if (Object.hasOwn(spec.dependsOn, dep)) return;
  spec.dependsOn[dep] = { condition: 'service_started', restart: false, required: true };
  deps.set(dep, { node, path });
}

function items(ctx: Ctx, node: YNode, path: PathSeg[], hint: string): [string, YNode, PathSeg[]][] {
  if (node.kind === 'scalar' && node.value === null) return [];
  if (node.kind !== 'seq') return typeError(ctx, node, path, 'a list', hint) ?? [];
  const out: [string, YNode, PathSeg[]][] = [];
  node.items.forEach((item, i) => {
    const s = readString(ctx, item, [...path, i], { hint });
    if (s !== undefined) out.push([s, item, [...path, i]]);
  });
  return out;
}

/** `volumes_from: [web, "web:ro", "service:web:rw", "container:name"]` → `service:<name>[:mode]` / `container:<name>[:mode]`. */
export function readVolumesFrom(ctx: Ctx, node: YNode, path: PathSeg[], spec: ServiceSpec, deps: DependencyNodes): string[] {
  const hint = 'expected "<service>[:ro|rw]", "service:<name>[:ro|rw]" or "container:<name>[:ro|rw]"';
  const out: string[] = [];
  for (const [s, item, p] of items(ctx, node, path, hint)) {
    const parts = s.split(':');
    const kind = parts[0] === 'container' || parts[0] === 'service' ? parts.shift()! : 'service';
    const [name = '', mode, ...extra] = parts;
    if (!NAME.test(name) || extra.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
      ctx.issues.error(item.pos, p, `invalid volumes_from "${s.slice(0, 60)}"`, hint);
      continue;
    }
    if (kind === 'service' && name === spec.name) {
      ctx.issues.error(item.pos, p, `service "${spec.name}" cannot take volumes from itself`);
      continue;
    }
    if (kind === 'service') implicitDependency(spec, deps, name, item, p);
    out.push(`${kind}:${name}${mode === undefined ? '' : `:${mode}`}`);
  }
  return out;
}

/** `links: [db, "db:database"]`: db first (an implicit depends_on), and `database` resolves to it like `db` does. */
export function readLinks(ctx: Ctx, node: YNode, path: PathSeg[], spec: ServiceSpec, deps: DependencyNodes, aliases: LinkAlias[]): void {
  const hint = 'expected "<service>" or "<service>:<alias>"';
  for (const [s, item, p] of items(ctx, node, path, hint)) {
    const [name = '', alias, ...extra] = s.split(':');
    if (!NAME.test(name) || extra.length > 0 || (alias !== undefined && !NAME.test(alias))) {
      ctx.issues.error(item.pos, p, `invalid link "${s.slice(0, 60)}"`, hint);
      continue;
    }
    if (name === spec.name) {
      ctx.issues.error(item.pos, p, `service "${spec.name}" cannot link to itself`);
      continue;
    }
    implicitDependency(spec, deps, name, item, p);
    if (alias !== undefined && alias !== name) aliases.push({ service: name, alias, node: item, path: p });
  }
}

/** `external_links: ["name", "name:alias"]`: containers outside the project, as the engine's legacy links. */
export function readExternalLinks(ctx: Ctx, node: YNode, path: PathSeg[]): string[] {
  const hint = 'expected "<container>" or "<container>:<alias>"';
  const out: string[] = [];
  for (const [s, item, p] of items(ctx, node, path, hint)) {
    const [name = '', alias = name, ...extra] = s.split(':');
    if (!NAME.test(name) || !NAME.test(alias) || extra.length > 0) ctx.issues.error(item.pos, p, `invalid external link "${s.slice(0, 60)}"`, hint);
    else out.push(`${name}:${alias}`);
  }
  return out;
}

/**
 * Applies `links` aliases: the linked service answers to the alias on every network it shares with the linking one.
 * Runs after all services are read; an unknown linked service is reported by the depends_on check.
 */
export function applyLinkAliases(services: Map<string, { spec: ServiceSpec }>, from: string, links: LinkAlias[]): void {
  const linking = services.get(from)?.spec;
  for (const l of links) {
    const target = services.get(l.service)?.spec;
    if (target === undefined || linking === undefined) continue;
    for (const [net, endpoint] of Object.entries(target.networks)) {
      if (Object.hasOwn(linking.networks, net) && !endpoint.aliases.includes(l.alias)) endpoint.aliases = [...endpoint.aliases, l.alias];
    }
  }
}
