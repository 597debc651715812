// The facts of an engine failure (which operation, which status, which message), normalised from dockerode's error
// shape, and the statuses that mean success. translate-error.ts turns the rest into CmeshErrors.

export type EngineOp =
  | 'ping'
  | 'list'
  | 'inspect'
  | 'create'
  | 'start'
  | 'stop'
  | 'kill'
  | 'remove'
  | 'rename'
  | 'pause'
  | 'unpause'
  | 'top'
  | 'logs'
  | 'archive'
  | 'exec'
  | 'attach'
  | 'wait'
  | 'network-create'
  | 'network-connect'
  | 'network-disconnect'
  | 'network-inspect'
  | 'network-remove'
  | 'volume-create'
  | 'volume-inspect'
  | 'volume-remove'
  | 'image-inspect'
  | 'image-remove'
  | 'image-tag'
  | 'build'
  | 'pull'
  | 'events'
  | 'swarm-inspect'
  | 'service-create'
  | 'service-update'
  | 'service-remove'
  | 'service-list'
  | 'task-list'
  | 'secret-create'
  | 'secret-remove'
  | 'config-create'
  | 'config-remove'
  | 'push';

/** What the failing call was about; only `op` is required. */
export interface ErrorContext {
  op: EngineOp;
  /** Container/network/volume/image name or id. */
  subject?: string;
  /** Image reference (create). */
  image?: string;
  /** How the engine is reached, for unavailable errors. */
  host?: string;
  /** The DOCKER_HOST value when the target came from it. */
  dockerHost?: string;
  /** Id of the container holding a conflicting name (looked up by the adapter). */
  existingId?: string;
}

/** The facts of a failure, normalised from dockerode's error shape. */
export interface EngineFailure {
  status?: number;
  /** errno-style code of a socket failure (ECONNREFUSED, ENOENT...). */
  sysCode?: string;
  /** The engine's own message (without dockerode's "(HTTP code N) reason - " prefix). */
  message: string;
}

/** Socket errors that mean the engine is not reachable at all (no socket or no permission on it, refused, reset, unroutable), not a failed request. */
export const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

export function engineFailure(err: unknown): EngineFailure {
  if (typeof err !== 'object' || err === null) return { message: String(err) };
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; json?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const sysCode = typeof e.code === 'string' ? e.code : undefined;
  let message = typeof e.message === 'string' ? e.message : String(err);
  const json = e.json as { message?: unknown } | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') message = json.message;
  else {
    const m = /^\(HTTP code \d+\) [^-]*? - ([\s\S]*)$/.exec(message);
    if (m?.[1] !== undefined) message = m[1];
  }
  message = message.trim();
  if (message === '' && e.message === 'socket hang up') message = 'socket hang up';
  return {
    ...(status === undefined ? {} : { status }),
    ...(sysCode === undefined ? {} : { sysCode }),
    message,
  };
}

/**
 * Statuses that mean "already in the state you asked for". The engine reports them as errors; cmesh's callers are
 * level-triggered and retry freely, so treating them as success keeps every operation idempotent.
 */
// Engine 20.10 answers some state conflicts with 500 where newer engines say 409, hence the status lists.
export const BENIGN: { op: EngineOp; status: number[]; pattern?: RegExp }[] = [
  { op: 'start', status: [304] },
  { op: 'stop', status: [304, 404] },
  { op: 'kill', status: [404] },
  { op: 'kill', status: [409, 500], pattern: /is not running/i },
  { op: 'remove', status: [404] },
  { op: 'remove', status: [409], pattern: /already in progress/i },
  { op: 'pause', status: [409, 500], pattern: /is already paused/i },
  { op: 'unpause', status: [409, 500], pattern: /is not paused/i },
  { op: 'network-remove', status: [404] },
  // Live gateway network changes: a retried connect finds its endpoint there; a disconnect finds it gone.
  { op: 'network-connect', status: [403, 409], pattern: /already exists in network/i },
  { op: 'network-disconnect', status: [404] },
  { op: 'network-disconnect', status: [403, 500], pattern: /is not connected/i },
  { op: 'volume-remove', status: [404] },
  { op: 'image-remove', status: [404] },
  { op: 'service-remove', status: [404] },
  { op: 'secret-remove', status: [404] },
  { op: 'config-remove', status: [404] },
];

export function isBenign(op: EngineOp, failure: EngineFailure): boolean {
  return BENIGN.some(
    (rule) =>
      rule.op === op &&
      failure.status !== undefined &&
      rule.status.includes(failure.status) &&
      (rule.pattern === undefined || rule.pattern.test(failure.message)),
  );
}

export function isNotFound(failure: EngineFailure): boolean {
  return failure.status === 404;
}
