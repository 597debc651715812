// The control API's upgrade routes (`Connection: Upgrade`, `Upgrade: cmesh-io`), like Docker's exec start and attach:
// GET /v1/projects/:name/exec and /attach, each with its request as JSON in the `request` query parameter. Errors
// before the switch are ordinary JSON error responses; after it, the last io frame.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AttachRequestSchema, ExecRequestSchema } from '../api/control-schema.ts';
import { CmeshError } from '../api/errors.ts';
import { IO_UPGRADE } from '../api/io-frames.ts';
import { bridgeSession } from '../io-bridge.ts';
import { requireOneOff, requireReplica } from '../project-oneoff.ts';
import type { ProjectManager } from '../projects.ts';
import { isValidProjectName } from '../store.ts';
import { queryRequest } from './archive.ts';
import { httpStatusOf, toSerialized } from './http.ts';
import { parseBody } from './validate.ts';

const route = /^\/v1\/projects\/([^/]+)\/(exec|attach)$/;

function refuse(socket: Duplex, err: unknown): void {
  const error = toSerialized(err);
  const body = JSON.stringify({ error });
  socket.end(
    `HTTP/1.1 ${httpStatusOf(error)} cmesh\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function switchProtocols(socket: Duplex): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${IO_UPGRADE}\r\n\r\n`);
}

export function createUpgradeRouter(manager: ProjectManager): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cmesh');
    const m = route.exec(url.pathname);
    if (req.method !== 'GET' || !m || req.headers.upgrade?.toLowerCase() !== IO_UPGRADE) {
      throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `no upgrade route ${req.method} ${url.pathname}`, { details: { status: 404 } });
    }
    const name = decodeURIComponent(m[1]!);
    if (!isValidProjectName(name)) throw new CmeshError('CMESH_E_USAGE', `invalid project name "${name}"`);
    // Bytes the client sent right after its headers belong to the session.
    if (head.length > 0) socket.unshift(head);
    // As in the router: a verb the project's target lacks is refused by name (`attach` is the one-off of `cmesh run`).
    manager.assertVerb(name, m[2] === 'exec' ? 'exec' : 'run');
    const ctx = await manager.interactive(name);
    if (m[2] === 'exec') {
      const request = parseBody(ExecRequestSchema, queryRequest(url, 'exec'), 'exec');
      const c = await requireReplica(ctx, request.service, request.index, true);
      const session = await ctx.engine.execIo(c.id, {
        command: request.command,
        tty: request.tty,
        stdin: request.stdin,
        detach: request.detach,
        privileged: request.privileged,
        ...(Object.keys(request.env).length > 0 ? { env: request.env } : {}),
        ...(request.user === undefined ? {} : { user: request.user }),
        ...(request.workingDir === undefined ? {} : { workingDir: request.workingDir }),
      });
      switchProtocols(socket);
      await bridgeSession(socket, session);
      return;
    }
    const request = parseBody(AttachRequestSchema, queryRequest(url, 'attach'), 'attach');
    const c = await requireOneOff(ctx, request.container);
    // A one-off whose terminal went away is over (Compose stops it on Ctrl-C); `--rm` leaves nothing either way, and
    // is done before the exit code goes out, so the CLI returns only once the container is gone.
    let removed = false;
    const remove = async (): Promise<void> => {
      if (!request.rm || removed) return;
      removed = true;
      await ctx.engine.removeContainer(c.id, { force: true }).catch(() => undefined);
    };
    let outcome = { clientGone: true };
    try {
      const session = await ctx.engine.attachContainer(c.id, { stdin: request.stdin, tty: request.tty });
      switchProtocols(socket);
      outcome = await bridgeSession(socket, session, { afterStart: () => ctx.engine.startContainer(c.id), beforeExit: remove });
    } finally {
      if (outcome.clientGone) await ctx.engine.stopContainer(c.id, 2).catch(() => undefined);
      await remove();
    }
  }

  return (req, socket, head) => {
    socket.on('error', () => undefined);
    handle(req, socket, head).catch((err: unknown) => {
      if (!socket.destroyed) refuse(socket, err);
    });
  };
}
