// The control API's routes (see daemon/api/control.ts): parse, validate, delegate to the project manager.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  BuildRequest,
  DaemonInfo,
  DownRequest,
  PullRequest,
  ScaleRequest,
  ServicesRequest,
  ServiceTableRow,
  SyncRequest,
  UpRequest,
} from '../api/control.ts';
import { CmeshError } from '../api/errors.ts';
import type { EventBus } from '../event-bus.ts';
import type { ProjectManager } from '../projects.ts';
import { isValidProjectName } from '../store.ts';
import { queryFlag, queryList, readJson, sendError, sendJson } from './http.ts';
import { drainReplica, killReplica, replicaBody } from './replica-actions.ts';
import { runOperation, serveEvents, serveLogs } from './streams.ts';

export interface RouteContext {
  manager: ProjectManager;
  bus: EventBus;
  info(): Promise<DaemonInfo>;
  /** The mesh's service table (GET /v1/services?project=), absent in daemons built without a mesh. */
  services?: (project?: string) => ServiceTableRow[];
  /** The mesh registry's setDraining (POST /v1/projects/:name/drain), absent without a mesh. */
  setDraining?: (project: string, ref: { service: string; replica: number }, drained: boolean) => void;
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

function servicesBody(body: Partial<ServicesRequest>): ServicesRequest {
  if (body.services !== undefined && !Array.isArray(body.services)) {
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', '`services` must be an array of service names');
  }
  return { services: body.services ?? [], ...(body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs }) };
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
    if (method === 'GET' && path === '/v1/projects') return sendJson(res, 200, await manager.list());
    if (method === 'GET' && path === '/v1/events') return serveEvents(req, res, url, bus);
    if (method === 'GET' && path === '/v1/services') {
      const project = url.searchParams.get('project') ?? undefined;
      if (project !== undefined) await manager.requireKnown(projectName(project));
      return sendJson(res, 200, ctx.services?.(project) ?? []);
    }

    const m = projectRoute.exec(path);
    if (m) {
      const name = projectName(m[1]!);
      const action = m[2]!;
      if (method === 'GET' && action === 'ps') {
        return sendJson(res, 200, await manager.ps(name, queryFlag(url, 'all'), queryList(url, 'service')));
      }
      if (method === 'GET' && action === 'logs') return serveLogs(req, res, url, manager, name);
      if (method === 'POST') {
        const body = await readJson<Record<string, unknown>>(req);
        switch (action) {
          case 'up': {
            const up = body as unknown as UpRequest;
            if (typeof up.project !== 'object' || up.project === null) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'up needs a `project` (the loaded ProjectSpec)');
            }
            const request: UpRequest = { ...up, services: up.services ?? [], build: up.build ?? 'auto', wait: up.wait === true };
            return runOperation(req, res, bus, name, (signal) => manager.up(name, request, signal));
          }
          case 'build': {
            const b = body as Partial<BuildRequest>;
            if (typeof b.project !== 'object' || b.project === null || b.project.name !== name) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'build needs a `project` (the loaded ProjectSpec) of this name');
            }
            const request: BuildRequest = { project: b.project, services: b.services ?? [], noCache: b.noCache === true };
            return runOperation(req, res, bus, name, (signal) => manager.build(name, request, signal));
          }
          case 'pull': {
            const p = body as Partial<PullRequest>;
            if (typeof p.project !== 'object' || p.project === null || p.project.name !== name) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'pull needs a `project` (the loaded ProjectSpec) of this name');
            }
            const request: PullRequest = {
              project: p.project,
              services: Array.isArray(p.services) ? p.services : [],
              ignoreFailures: p.ignoreFailures === true,
              ...(typeof p.dockerConfig === 'string' ? { dockerConfig: p.dockerConfig } : {}),
            };
            return runOperation(req, res, bus, name, (signal) => manager.pull(request, signal));
          }
          case 'sync': {
            const s = body as Partial<SyncRequest>;
            if (typeof s.service !== 'string' || !Array.isArray(s.files)) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'sync needs `service` and `files`');
            }
            return sendJson(res, 200, await manager.sync(name, { service: s.service, files: s.files, restart: s.restart === true }));
          }
          case 'down': {
            // No requireKnown: down is idempotent (the manager answers "nothing to remove").
            const d = body as Partial<DownRequest>;
            const request: DownRequest = { volumes: d.volumes === true, removeOrphans: d.removeOrphans === true };
            return runOperation(req, res, bus, name, () => manager.down(name, request));
          }
          case 'scale': {
            const s = body as Partial<ScaleRequest>;
            if (typeof s.services !== 'object' || s.services === null) {
              throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', 'scale needs `services`: { name: replicas }');
            }
            return sendJson(res, 200, await manager.scale(name, s as ScaleRequest));
          }
          case 'stop':
            return sendJson(res, 200, await manager.stop(name, servicesBody(body)));
          case 'start':
            return sendJson(res, 200, await manager.start(name, servicesBody(body)));
          case 'restart':
            return sendJson(res, 200, await manager.restart(name, servicesBody(body)));
          case 'kill':
            return sendJson(res, 200, await killReplica(manager, name, replicaBody(body, 'kill')));
          case 'drain':
            return sendJson(res, 200, await drainReplica(manager, name, body, ctx.setDraining));
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
