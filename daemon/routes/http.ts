// Small HTTP helpers for the control API: JSON bodies with a size cap, typed error replies, NDJSON streams that
// notice when the client disconnects.

import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CmeshError, type ErrorCode, type SerializedError } from '../api/errors.ts';

const MAX_BODY = 16 * 1024 * 1024;

/** The body as parsed JSON, not yet checked: validate.ts turns it into a contract type. An empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `request body is not JSON: ${(err as Error).message}`);
  }
}

const statusByCode: Partial<Record<ErrorCode, number>> = {
  CMESH_E_USAGE: 400,
  CMESH_E_DAEMON_PROTOCOL: 400,
  CMESH_E_PROJECT_NOT_FOUND: 404,
  CMESH_E_SERVICE_NOT_FOUND: 404,
  CMESH_E_IMAGE_MISSING: 404,
  CMESH_E_ENGINE_UNSUPPORTED: 400,
  CMESH_E_NAME_CONFLICT: 409,
  CMESH_E_PORT_TAKEN: 409,
  CMESH_E_LOCKED: 409,
  CMESH_E_TARGET_CONFLICT: 409,
  CMESH_E_TARGET_UNSUPPORTED: 400,
  CMESH_E_SWARM_NOT_MANAGER: 503,
  CMESH_E_ENGINE_UNAVAILABLE: 503,
  CMESH_E_TIMEOUT: 504,
};

/** Any thrown value → wire error. Non-CmeshErrors are bugs and keep their stack for the report. */
export function toSerialized(err: unknown): SerializedError {
  if (err instanceof CmeshError) return err.toJSON();
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: 'CMESH_E_BUG', message: `daemon bug: ${e.message}`, details: { stack: e.stack ?? '' } };
}

export function httpStatusOf(error: SerializedError): number {
  if (error.code === 'CMESH_E_BUG') return 500;
  const explicit = error.details?.['status'];
  if (typeof explicit === 'number') return explicit;
  if (error.code.startsWith('CMESH_E_CONFIG')) return 400;
  return statusByCode[error.code as ErrorCode] ?? 500;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const error = toSerialized(err);
  if (res.headersSent) {
    // Mid-stream: the status line is gone, so the final error frame carries the outcome.
    ndjsonWrite(res, { kind: 'error', error });
    res.end();
    return;
  }
  sendJson(res, httpStatusOf(error), { error });
}

export function startNdjson(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  // Headers now, so the client knows the daemon accepted the request before the first frame.
  res.flushHeaders();
}

/** Writes one line; returns false when the client is gone or its buffer is full (callers may drop or wait). */
export function ndjsonWrite(res: ServerResponse, value: unknown): boolean {
  if (res.destroyed || res.writableEnded) return false;
  return res.write(JSON.stringify(value) + '\n');
}

/** An AbortSignal that fires when the client disconnects before the response finished. */
export function clientGone(req: IncomingMessage, res: ServerResponse): AbortController {
  const ac = new AbortController();
  // One operation (an `up` of many services) hands this signal to every build, engine call and wait it runs at once,
  // each removing its listener when done: more than node's 10 is normal, not a leak.
  setMaxListeners(0, ac.signal);
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort(new CmeshError('CMESH_E_USAGE', 'client disconnected'));
  };
  res.once('close', onClose);
  req.once('error', onClose);
  return ac;
}

export function queryList(url: URL, key: string): string[] {
  return url.searchParams.getAll(key).flatMap((v) => v.split(',')).filter((v) => v !== '');
}

export function queryFlag(url: URL, key: string): boolean {
  const v = url.searchParams.get(key);
  return v !== null && v !== '0' && v !== 'false';
}
