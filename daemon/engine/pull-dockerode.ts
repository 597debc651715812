// The real pull: POST /images/create through docker-modem, with credentials, platform, a stall bound, and the NDJSON
// verdict (an errorDetail line fails the pull even on HTTP 200).

import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type { PullOptions, PullProgress } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { drainStream } from './engine-streams.ts';
import { PullProgressParser, pullFailure } from './pull-progress.ts';
import { linkAbort } from './stream-util.ts';
import { engineFailure, type ErrorContext } from './translate-error.ts';

/**
 * How long a pull may go without a byte from the engine. An unreachable registry usually fails fast (connection
 * refused, no such host), but a black-holed address only times out after the engine's own long dial timeout.
 */
export const DEFAULT_PULL_STALL_MS = 60_000;

/** `name:tag` → fromImage=name, tag=tag; `name@sha256:…` → fromImage=name, tag=sha256:… (what the API expects). */
export function pullQuery(ref: string): { fromImage: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { fromImage: ref.slice(0, at), tag: ref.slice(at + 1) };
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: 'latest' };
}

export async function* dockerodePull(
  docker: Docker,
  options: PullOptions,
  translate: (err: unknown, ctx: ErrorContext) => CmeshError,
): AsyncGenerator<PullProgress> {
  const ctx: ErrorContext = { op: 'pull', subject: options.ref };
  const stallMs = options.stallMs ?? DEFAULT_PULL_STALL_MS;
  const stall = new AbortController();
  const signals = [stall.signal, ...(options.signal ? [options.signal] : [])];
  const link = linkAbort(AbortSignal.any(signals));
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), stallMs);
  };
  const stalled = (): CmeshError =>
    pullFailure(options.ref, `no answer from the engine or the registry for ${Math.round(stallMs / 1000)} s (i/o timeout)`);
  arm();
  try {
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        docker.modem.dial(
          {
            path: '/images/create?',
            method: 'POST',
            options: { ...pullQuery(options.ref), ...(options.platform ? { platform: options.platform } : {}) },
            // docker-modem base64url-encodes this object into X-Registry-Auth; it is never logged.
            ...(options.auth ? { authconfig: options.auth } : {}),
            isStream: true,
            abortSignal: link.signal,
            statusCodes: { 200: true, 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 500: 'server error' },
          },
          (err, data) => (err ? reject(err) : resolve(data as IncomingMessage)),
        );
      });
    } catch (err) {
      link.dispose();
      if (stall.signal.aborted) throw stalled();
      if (options.signal?.aborted) return;
      // A socket failure is the engine's, not the registry's: the shared table says CMESH_E_ENGINE_UNAVAILABLE.
      const translated = translate(err, ctx);
      if (translated.code === 'CMESH_E_ENGINE_UNAVAILABLE') throw translated;
      const f = engineFailure(err);
      throw pullFailure(options.ref, f.message, f.status);
    }
    const parser = new PullProgressParser(options.ref);
    const onChunk = (chunk: Buffer): PullProgress[] => {
      arm();
      return parser.push(chunk);
    };
    yield* drainStream(res, link, onChunk, () => parser.end(), (err) => (err instanceof CmeshError ? err : translate(err, ctx)));
    if (stall.signal.aborted) throw stalled();
  } finally {
    clearTimeout(timer);
  }
}
