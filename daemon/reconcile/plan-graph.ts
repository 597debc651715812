// depends_on as a graph: which services a selection touches, and the dependency levels that become plan stages.

import { CmeshError } from '../api/errors.ts';
import type { ServiceSpec } from '../api/project.ts';

/** Selected services plus everything they depend on, transitively; an empty selection means all services. */
export function touchedServices(services: Record<string, ServiceSpec>, selected: readonly string[]): Set<string> {
  if (selected.length === 0) return new Set(Object.keys(services));
  const out = new Set<string>();
  const visit = (name: string): void => {
    const spec = services[name];
    if (!spec || out.has(name)) return;
    out.add(name);
    for (const dep of Object.keys(spec.dependsOn)) visit(dep);
  };
  for (const name of selected) {
    if (!services[name]) {
      throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no such service: ${name}`, {
        hint: `known services: ${Object.keys(services).sort().join(', ')}`,
      });
    }
    visit(name);
  }
  return out;
}

/** Dependencies of a service that exist in the project; a missing required one is a config error. */
export function dependenciesOf(services: Record<string, ServiceSpec>, name: string): string[] {
  const spec = services[name];
  if (!spec) return [];
  const deps: string[] = [];
  for (const [dep, rule] of Object.entries(spec.dependsOn)) {
    if (services[dep]) deps.push(dep);
    else if (rule.required) {
      throw new CmeshError('CMESH_E_CONFIG', `service ${name} depends on unknown service ${dep}`);
    }
  }
  return deps.sort();
}

/**
 * Groups services into levels: level 0 has no dependencies, level n depends only on lower levels. A cycle is a
 * config error naming the loop, never an infinite wait.
 */
export function dependencyLevels(services: Record<string, ServiceSpec>, include: Set<string>): string[][] {
  const level = new Map<string, number>();
  const visiting: string[] = [];
  const visit = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const at = visiting.indexOf(name);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), name].join(' -> ');
      throw new CmeshError('CMESH_E_CONFIG', `dependency cycle: ${cycle}`, {
        hint: 'remove one of the depends_on entries in the cycle',
      });
    }
    visiting.push(name);
    let mine = 0;
    for (const dep of dependenciesOf(services, name)) {
      if (include.has(dep)) mine = Math.max(mine, visit(dep) + 1);
    }
    visiting.pop();
    level.set(name, mine);
    return mine;
  };
  for (const name of [...include].sort()) visit(name);
  const levels: string[][] = [];
  for (const [name, n] of level) levels[n] = [...(levels[n] ?? []), name];
  return levels.map((names) => names.sort());
}

/**
 * The stages `name` must follow: for each dependency, its stage in this plan, or (when it has nothing to do) the stages
 * it would follow itself, so a dependency of a dependency that is being replaced still orders this one after it.
 */
export function dependencyStages(services: Record<string, ServiceSpec>, name: string, include: Set<string>, stageOf: ReadonlyMap<string, number>): number[] {
  const out = new Set<number>();
  const seen = new Set<string>();
  const visit = (of: string): void => {
    for (const dep of dependenciesOf(services, of)) {
      if (!include.has(dep) || seen.has(dep)) continue;
      seen.add(dep);
      const stage = stageOf.get(dep);
      if (stage === undefined) visit(dep);
      else out.add(stage);
    }
  };
  visit(name);
  return [...out].sort((a, b) => a - b);
}
