// Typed errors with stable codes: every failure a user can cause or meet is a CmeshError; anything else is a bug.

/** Process exit codes, one per cause so CI scripts can branch on them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  engineUnavailable: 4,
  buildFailed: 5,
  unhealthy: 6,
  notFound: 7,
  conflict: 8,
  pullFailed: 9,
  bug: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error codes. Never rename one: scripts and docs match on them. */
export const ErrorCodes = {
  CMESH_E_USAGE: ExitCode.usage,
  CMESH_E_CONFIG: ExitCode.config,
  CMESH_E_CONFIG_NOT_FOUND: ExitCode.config,
  CMESH_E_CONFIG_READ: ExitCode.config,
  CMESH_E_CONFIG_YAML: ExitCode.config,
  CMESH_E_CONFIG_LIMIT: ExitCode.config,
  CMESH_E_CONFIG_INVALID: ExitCode.config,
  CMESH_E_CONFIG_INTERPOLATION: ExitCode.config,
  CMESH_E_ENV_FILE: ExitCode.config,
  CMESH_E_ENGINE_UNAVAILABLE: ExitCode.engineUnavailable,
  CMESH_E_ENGINE: ExitCode.failure,
  /** A compose key the connected engine's API version cannot apply (named with both versions); the file is refused. */
  CMESH_E_ENGINE_UNSUPPORTED: ExitCode.config,
  CMESH_E_IMAGE_MISSING: ExitCode.notFound,
  /** The registry has no such repository or tag. */
  CMESH_E_IMAGE_NOT_FOUND: ExitCode.notFound,
  /** The registry refused the credentials (or wanted some). */
  CMESH_E_PULL_UNAUTHORIZED: ExitCode.pullFailed,
  /** Any other pull failure: registry unreachable, stalled, bad platform, engine-side error during the pull. */
  CMESH_E_PULL_FAILED: ExitCode.pullFailed,
  /** A push to the registry a multi-node swarm deploys from failed (unreachable, refused, an error line). */
  CMESH_E_PUSH_FAILED: ExitCode.pullFailed,
  CMESH_E_PORT_TAKEN: ExitCode.conflict,
  CMESH_E_NAME_CONFLICT: ExitCode.conflict,
  CMESH_E_VOLUME_PATH: ExitCode.config,
  CMESH_E_BUILD_FAILED: ExitCode.buildFailed,
  CMESH_E_BUILD_CONTEXT: ExitCode.buildFailed,
  CMESH_E_UNHEALTHY: ExitCode.unhealthy,
  CMESH_E_TIMEOUT: ExitCode.unhealthy,
  CMESH_E_CONTAINER_EXITED: ExitCode.unhealthy,
  /** A service's post_start hook failed (non-zero exit, timeout, exec refused): that replica did not start. */
  CMESH_E_HOOK_FAILED: ExitCode.unhealthy,
  /** A start-first rollout's new replica never became healthy; the old replicas keep serving. */
  CMESH_E_ROLLOUT_FAILED: ExitCode.unhealthy,
  CMESH_E_PROJECT_NOT_FOUND: ExitCode.notFound,
  CMESH_E_SERVICE_NOT_FOUND: ExitCode.notFound,
  CMESH_E_DAEMON_UNAVAILABLE: ExitCode.failure,
  /** A request the other side cannot take (malformed body, unknown route, broken stream): a usage error. */
  CMESH_E_DAEMON_PROTOCOL: ExitCode.usage,
  CMESH_E_LOCKED: ExitCode.conflict,
  /** `--target swarm` against an engine that is not an active swarm manager. */
  CMESH_E_SWARM_NOT_MANAGER: ExitCode.engineUnavailable,
  /** A swarm of several nodes: the local images cannot reach the other nodes until registry pushes land. */
  CMESH_E_SWARM_MULTI_NODE: ExitCode.usage,
  /** A verb the project's target (e.g. swarm) does not carry out yet; never a silent run on another target. */
  CMESH_E_TARGET_UNSUPPORTED: ExitCode.usage,
  /** `up --target X` for a project the daemon runs on target Y: `down` first. */
  CMESH_E_TARGET_CONFLICT: ExitCode.conflict,
  /** The local CA cannot be opened or created (unreadable key, unwritable CMESH_HOME/ca), or a CA install failed. */
  CMESH_E_TLS: ExitCode.failure,
  CMESH_E_BUG: ExitCode.bug,
} as const satisfies Record<string, ExitCode>;
export type ErrorCode = keyof typeof ErrorCodes;

/** A place in a config file; line and col are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One problem found in a config file; a CmeshError may carry several so users fix them in one pass. */
export interface ConfigIssue {
  message: string;
  /** Dotted path in the document, e.g. `services.web.ports[1]`. */
  path?: string;
  position?: SourcePosition;
  hint?: string;
}

export interface CmeshErrorOptions {
  hint?: string;
  issues?: ConfigIssue[];
  cause?: unknown;
  /** Extra structured data a renderer may show (last log lines, port number...). */
  details?: Record<string, unknown>;
}

export class CmeshError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly issues: ConfigIssue[];
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: CmeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CmeshError';
    this.code = code;
    this.hint = options.hint;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
  }

  get exitCode(): ExitCode {
    return ErrorCodes[this.code];
  }

  /** The wire form used by the control API; `fromJSON` restores it on the client side. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, hint: this.hint, issues: this.issues, details: this.details };
  }

  static fromJSON(data: SerializedError): CmeshError {
    const code = (data.code in ErrorCodes ? data.code : 'CMESH_E_BUG') as ErrorCode;
    return new CmeshError(code, data.message, {
      ...(data.hint === undefined ? {} : { hint: data.hint }),
      issues: data.issues ?? [],
      details: data.details ?? {},
    });
  }
}

export interface SerializedError {
  code: string;
  message: string;
  hint?: string | undefined;
  issues?: ConfigIssue[];
  details?: Record<string, unknown>;
}

export function isCmeshError(value: unknown): value is CmeshError {
  return value instanceof CmeshError;
}

/** Formats a position the way compilers do, so terminals and editors make it clickable. */
export function formatPosition(pos: SourcePosition): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}
