// `cmesh cp` on the daemon: GET answers a tar of a path in a replica, PUT puts the request's tar at a path (archive-put.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ArchiveRequestSchema } from '../api/control-schema.ts';
import { putAtPath } from '../archive-put.ts';
import { CmeshError } from '../api/errors.ts';
import { requireReplica } from '../project-oneoff.ts';
import type { ProjectManager } from '../projects.ts';
import { sendJson } from './http.ts';
import { parseBody } from './validate.ts';

/** The `request` query parameter: the archive request as JSON, checked like a body. */
export function queryRequest(url: URL, what: string): unknown {
  const text = url.searchParams.get('request');
  if (text === null) throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `${what}: the request query parameter is missing`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `${what}: the request query parameter is not JSON: ${(err as Error).message}`);
  }
}

export async function serveArchive(req: IncomingMessage, res: ServerResponse, url: URL, manager: ProjectManager, project: string): Promise<void> {
  const request = parseBody(ArchiveRequestSchema, queryRequest(url, 'archive'), 'archive');
  const ctx = await manager.interactive(project);
  // A stopped replica still has its filesystem: Docker's archive API serves it, like `docker compose cp`.
  const c = await requireReplica(ctx, request.service, request.index, false);
  if (req.method === 'PUT') {
    const path = await putAtPath(ctx.engine, c.id, request.path, req);
    return sendJson(res, 200, { container: c.name, path });
  }
  const tar = await ctx.engine.getArchive(c.id, request.path);
  res.writeHead(200, { 'content-type': 'application/x-tar', 'x-cmesh-container': c.name });
  await pipeline(tar, res).catch((err: unknown) => {
    // Headers are gone: a broken tar is all the client can notice; close the connection so it does.
    res.destroy(err instanceof Error ? err : undefined);
  });
}
