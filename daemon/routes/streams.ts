// Streaming routes: operation progress (events while working, then result or error), the event feed and logs.

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogFrame, OperationFrame } from '../api/control.ts';
import type { DaemonEvent } from '../api/events.ts';
import type { EventBus } from '../event-bus.ts';
import { streamLogs } from '../logs.ts';
import type { ProjectManager } from '../projects.ts';
import { clientGone, ndjsonWrite, queryFlag, queryList, startNdjson, toSerialized } from './http.ts';

/**
 * Writes a line and, when the socket buffer is full, waits for it to drain (or for the client to leave). The waits that
 * lose the race are cancelled: left pending, each full buffer of a long stream to a slow reader (a dashboard attached
 * for hours) would leave an 'abort' listener on the request's signal and 'close'/'error' listeners on the response.
 */
export async function writePaced(res: ServerResponse, value: unknown, signal: AbortSignal): Promise<void> {
  if (ndjsonWrite(res, value) || res.destroyed || signal.aborted) return;
  const settled = new AbortController();
  const opts = { signal: settled.signal };
  try {
    await Promise.race([once(res, 'drain', opts), once(res, 'close', opts), once(signal, 'abort', opts)]).catch(() => undefined);
  } finally {
    settled.abort();
  }
}

/**
 * Runs a long operation and streams the project's events while it works. The last frame is the typed outcome, so
 * an error after the 200 status line still reaches the CLI as a CmeshError.
 */
export async function runOperation(
  req: IncomingMessage,
  res: ServerResponse,
  bus: EventBus,
  project: string,
  work: (signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const gone = clientGone(req, res);
  startNdjson(res);
  const sub = bus.subscribe({ filter: (e) => e.project === project, limit: 2000, signal: gone.signal });
  const send = (frame: OperationFrame): boolean => ndjsonWrite(res, frame);
  const pump = (async () => {
    for await (const event of sub) send({ kind: 'event', event });
  })();
  let final: OperationFrame;
  try {
    final = { kind: 'result', value: await work(gone.signal) };
  } catch (err) {
    final = { kind: 'error', error: toSerialized(err) };
  }
  // Events published by the operation itself must precede its outcome.
  for (const event of sub.drain()) send({ kind: 'event', event });
  sub.close();
  await pump;
  send(final);
  res.end();
}

export async function serveEvents(req: IncomingMessage, res: ServerResponse, url: URL, bus: EventBus): Promise<void> {
  const gone = clientGone(req, res);
  const projects = queryList(url, 'project');
  const filter = (e: DaemonEvent): boolean => projects.length === 0 || projects.includes(e.project);
  // Bounded: a client that stops reading loses the oldest events instead of growing the daemon's memory.
  const sub = bus.subscribe({ filter, limit: 1000, signal: gone.signal });
  // Same tick as subscribe: nothing can be published in between, so history and live neither overlap nor gap.
  const sinceText = url.searchParams.get('since');
  const since = sinceText === null ? Number.NaN : Number(sinceText);
  const replay = Number.isFinite(since) ? bus.recent(since, filter) : [];
  startNdjson(res);
  for (const event of replay) await writePaced(res, event, gone.signal);
  for await (const event of sub) await writePaced(res, event, gone.signal);
  res.end();
}

export async function serveLogs(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  manager: ProjectManager,
  project: string,
): Promise<void> {
  await manager.requireKnown(project);
  const gone = clientGone(req, res);
  const tailText = url.searchParams.get('tail');
  const tail = tailText === null || tailText === 'all' ? undefined : Number.parseInt(tailText, 10);
  startNdjson(res);
  try {
    await streamLogs({
      engine: manager.engine,
      project,
      services: queryList(url, 'service'),
      follow: queryFlag(url, 'follow'),
      ...(tail === undefined || Number.isNaN(tail) ? {} : { tail }),
      signal: gone.signal,
      onEngineEvent: (listener) => manager.onEngineEvent(listener),
      write: (frame: LogFrame) => writePaced(res, frame, gone.signal),
      ...manager.logSources(project),
    });
  } catch (err) {
    ndjsonWrite(res, { kind: 'error', error: toSerialized(err) });
  }
  res.end();
}
