// The control API's routes (see daemon/api/control.ts): parse, validate (control-schema.ts), delegate to the project manager.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DaemonInfo, ServiceTableRow } from '../api/control.ts';
import type { FaultRequest, FaultResponse, RoutesView } from '../api/policy-control.ts';
import { type ProjectAction, projectActionSchemas as schemas } from '../api/control-schema.ts';
import { CmeshError } from '../api/errors.ts';
import type { EventBus } from '../event-bus.ts';
import type { ProjectManager } from '../projects.ts';
import { isValidProjectName } from '../store.ts';
import { serveArchive } from './archive.ts';
import { clientGone, queryFlag, queryList, readJson, sendError, sendJson } from './http.ts';
import { drainReplica, killReplica } from './replica-actions.ts';
import { serveServices } from './services-wait.ts';
import { runOperation, serveEvents, serveLogs } from './streams.ts';
import { type TlsRoutes, serveTls } from './tls.ts';
import { parseBody } from './validate.ts';

export interface RouteContext {
  manager: ProjectManager;
  bus: EventBus;
  info(): Promise<DaemonInfo>;
  /** The mesh's service table (GET /v1/services?project=), absent in daemons built without a mesh. */
  services?: (project?: string) => ServiceTableRow[];
  /** The mesh registry's setDraining (POST /v1/projects/:name/drain), absent without a mesh. */
  setDraining?: (project: string, ref: { service: string; replica: number }, drained: boolean) => void;
  /** Traffic policy of published ports (`cmesh fault`, `cmesh routes`), absent without a mesh. */
  policy?: { setFaults(project: string, request: FaultRequest): FaultResponse; routes(project: string): RoutesView };
  /** The local CA (POST /v1/tls/*), absent without a mesh. */
  tls?: TlsRoutes;
  /** Asks the daemon to exit after this response is sent. */
  shutdown(): void;
}

const projectRoute = /^\/v1\/projects\/([^/]+)\/([a-z]+)$/;

function projectName(raw: string): string {
  const name = decodeURIComponent(raw);
  if (!isValidProjectName(name)) {
    throw new CmeshError('CMESH_E_USAGE', `invalid project name "${name}"`, {
      hint: 'project names are lower-case letters, digits, dashes and underscores, starting with a letter or digit',
    });
  }
  return name;
}

export function createRouter(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { manager, bus } = ctx;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cmesh');
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (method === 'GET' && path === '/v1/info') return sendJson(res, 200, await ctx.info());
    if (method === 'POST' && path === '/v1/shutdown') {
      res.once('finish', () => ctx.shutdown());
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'POST' && (await serveTls(req, res, path, ctx.tls))) return;
    if (method === 'GET' && path === '/v1/projects') return sendJson(res, 200, await manager.list());
    if (method === 'GET' && path === '/v1/events') return serveEvents(req, res, url, bus);
    if (method === 'GET' && path === '/v1/services') {
      const project = url.searchParams.get('project') ?? undefined;
      if (project !== undefined) await manager.requireKnown(projectName(project));
      return serveServices(req, res, url, { bus, project, look: () => ctx.services?.(project) ?? [] });
    }

    const m = projectRoute.exec(path);
    if (m) {
      const name = projectName(m[1]!);
      const action = m[2]!;
      // A verb the project's target lacks is refused by name here, before any body is read or engine touched.
      if (action !== 'up' && action !== 'down') manager.assertVerb(name, ({ signal: 'kill', archive: 'cp' } as Record<string, string>)[action] ?? action);
      if (method === 'GET' && action === 'ps') {
        return sendJson(res, 200, await manager.ps(name, queryFlag(url, 'all'), queryList(url, 'service')));
      }
      if (method === 'GET' && action === 'logs') return serveLogs(req, res, url, manager, name);
      if ((method === 'GET' || method === 'PUT') && action === 'archive') return serveArchive(req, res, url, manager, name);
      if (method === 'GET' && action === 'routes') {
        await manager.requireKnown(name);
        return sendJson(res, 200, ctx.policy?.routes(name) ?? { ports: [], faults: [], breakers: [] });
      }
      if (method === 'POST' && Object.hasOwn(schemas, action)) {
        const raw = await readJson(req);
        // The one place a body is checked: past this line every route trusts its contract type.
        switch (action as ProjectAction) {
          case 'up': {
            const request = parseBody(schemas.up, raw, 'up');
            return runOperation(req, res, bus, name, (signal) => manager.up(name, request, signal));
          }
          case 'build': {
            const request = parseBody(schemas.build, raw, 'build');
            if (request.project.name !== name) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `build request: project.name is "${request.project.name}", not "${name}"`);
            }
            return runOperation(req, res, bus, name, (signal) => manager.build(name, request, signal));
          }
          case 'pull': {
            const request = parseBody(schemas.pull, raw, 'pull');
            if (request.project.name !== name) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `pull request: project.name is "${request.project.name}", not "${name}"`);
            }
            return runOperation(req, res, bus, name, (signal) => manager.pull(request, signal));
          }
          case 'sync':
            return sendJson(res, 200, await manager.sync(name, parseBody(schemas.sync, raw, 'sync')));
          case 'down': {
            // No requireKnown: down is idempotent (the manager answers "nothing to remove").
            const request = parseBody(schemas.down, raw, 'down');
            return runOperation(req, res, bus, name, () => manager.down(name, request));
          }
          case 'scale':
            return sendJson(res, 200, await manager.scale(name, parseBody(schemas.scale, raw, 'scale')));
          case 'stop':
            return sendJson(res, 200, await manager.stop(name, parseBody(schemas.stop, raw, 'stop')));
          case 'start':
            return sendJson(res, 200, await manager.start(name, parseBody(schemas.start, raw, 'start')));
          case 'restart':
            return sendJson(res, 200, await manager.restart(name, parseBody(schemas.restart, raw, 'restart')));
          case 'kill':
            return sendJson(res, 200, await killReplica(manager, name, parseBody(schemas.kill, raw, 'kill')));
          case 'pause':
            return sendJson(res, 200, await manager.pause(name, parseBody(schemas.pause, raw, 'pause'), true));
          case 'unpause':
            return sendJson(res, 200, await manager.pause(name, parseBody(schemas.unpause, raw, 'unpause'), false));
          case 'signal':
            return sendJson(res, 200, await manager.kill(name, parseBody(schemas.signal, raw, 'signal')));
          case 'port':
            return sendJson(res, 200, await manager.port(name, parseBody(schemas.port, raw, 'port')));
          case 'top':
            return sendJson(res, 200, await manager.top(name, parseBody(schemas.top, raw, 'top')));
          case 'images':
            return sendJson(res, 200, await manager.images(name, parseBody(schemas.images, raw, 'images')));
          case 'run': {
            const request = parseBody(schemas.run, raw, 'run');
            return sendJson(res, 200, await manager.run(name, request, clientGone(req, res).signal));
          }
          case 'rm':
            return sendJson(res, 200, await manager.rm(name, parseBody(schemas.rm, raw, 'rm')));
          case 'fault': {
            const request = parseBody(schemas.fault, raw, 'fault');
            await manager.requireKnown(name);
            if (ctx.policy === undefined) throw new CmeshError('CMESH_E_USAGE', 'this daemon runs without a mesh: there is no proxy to inject faults into');
            return sendJson(res, 200, ctx.policy.setFaults(name, request));
          }
          case 'drain':
            return sendJson(res, 200, await drainReplica(manager, name, parseBody(schemas.drain, raw, 'drain'), ctx.setDraining));
        }
      }
    }
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `no route ${method} ${path}`, {
      hint: 'the CLI and the daemon may be different versions: run `cmesh daemon stop` and retry',
      details: { status: 404 },
    });
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.destroyed) sendError(res, err);
    });
  };
}
