// Route targets must be services of the project the proxy can reach: checked once every service is read.

import type { ServiceSpec } from '../api/project.ts';
import { routablePorts } from '../api/route-ports.ts';
import { targetPositions } from './policy-routes-read.ts';
import type { Ctx } from './normalize/read.ts';

/** `all` holds every service read (profiles included) so a disabled target gets its own message. */
export function checkRouteTargets(ctx: Ctx, active: Record<string, ServiceSpec>, all: ReadonlyMap<string, ServiceSpec>): void {
  for (const svc of Object.values(active)) {
    const routes = svc.mesh.policy?.routes;
    if (routes === undefined) continue;
    const at = ['services', svc.name, 'x-cmesh', 'routes'];
    if (svc.mesh.protocol !== 'http') {
      ctx.issues.error(svc.position, at, `service "${svc.name}" has routes but protocol "${svc.mesh.protocol}"`, 'routes pick by path and headers, so they need `protocol: http`');
      continue;
    }
    if (!svc.ports.some((p) => p.protocol === 'tcp' && p.published !== undefined)) {
      ctx.issues.warn(svc.position, at, `routes of "${svc.name}" apply to its published ports, and it publishes none: they have no effect yet`);
    }
    for (const route of routes) {
      for (const t of route.to) {
        const where = targetPositions.get(t);
        const target = active[t.service];
        const name = t.port === undefined ? t.service : `${t.service}:${t.port}`;
        const error = (message: string, hint: string): void => ctx.issues.error(where?.pos, where?.path ?? at, message, hint);
        if (target === undefined) {
          if (all.has(t.service)) error(`route target "${t.service}" is disabled by profiles`, `activate it with --profile ${all.get(t.service)?.profiles[0] ?? ''}`);
          else error(`route target "${t.service}" is not a service of this project`, `known services: ${Object.keys(active).join(', ')}`);
          continue;
        }
        if (target.mesh.protocol !== 'http') {
          error(`route target "${name}" uses protocol "${target.mesh.protocol}"`, 'a route forwards HTTP requests; give the target `x-cmesh.protocol: http`');
          continue;
        }
        const ports = routablePorts(target);
        if (ports.length === 0) error(`route target "${t.service}" has no container port to send requests to`, 'give it `ports`, `expose` or `x-cmesh.ports`');
        else if (t.port !== undefined && !ports.includes(t.port)) error(`route target "${name}": ${t.service} has no container port ${t.port}`, `its ports: ${ports.join(', ')}`);
      }
    }
  }
}
