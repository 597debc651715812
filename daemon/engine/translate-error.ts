// Maps engine failures (HTTP status + message, or a socket error) to CmeshErrors, and says which statuses mean success.

import { CmeshError } from '../api/errors.ts';
import { type EngineFailure, type EngineOp, type ErrorContext, engineFailure, SOCKET_CODES } from './engine-failure.ts';
import { swarmNotManager } from '../api/swarm-engine.ts';

export { swarmNotManager };

// The failure facts and benign statuses live in engine-failure.ts; re-exported so adapters keep one import.
export {
  type EngineFailure,
  type EngineOp,
  type ErrorContext,
  engineFailure,
  isBenign,
  isNotFound,
} from './engine-failure.ts';

interface Rule {
  name: string;
  when: (f: EngineFailure, ctx: ErrorContext) => boolean;
  make: (f: EngineFailure, ctx: ErrorContext) => CmeshError;
}

const ENSURE_HINT = 'start it with `bash scripts/ensure-docker.sh`';
const PORT_RE = /port is already allocated|address already in use/i;
const MOUNT_RE = /invalid mount config|bind source path does not exist|mount path must be absolute|invalid volume specification|not a directory|no such file or directory.*mount|error while creating mount source path/i;

const CONFLICT_OPS = new Set<EngineOp>(['create', 'rename', 'network-create', 'volume-create', 'service-create', 'secret-create', 'config-create']);
const SWARM_OPS = new Set<EngineOp>(['service-create', 'service-update', 'service-remove', 'service-list', 'task-list', 'secret-create', 'secret-remove', 'config-create', 'config-remove']);

/** 409 on removing a volume or an image: something still uses it. */
function inUse(name: string, op: EngineOp, noun: string, user: string, hint: string): Rule {
  return {
    name,
    when: (f, ctx) => ctx.op === op && f.status === 409,
    make: (f, ctx) =>
      new CmeshError('CMESH_E_ENGINE', `${noun} "${ctx.subject ?? '?'}" is still used by ${user}`, {
        hint,
        details: { op: ctx.op, reason: 'in-use', status: f.status, engineMessage: f.message },
      }),
  };
}

/** First match wins; order from most specific to the catch-all. Exported so tests can assert it is exhaustive. */
export const RULES: Rule[] = [
  {
    name: 'engine-unavailable',
    when: (f) => f.status === undefined && f.sysCode !== undefined && SOCKET_CODES.has(f.sysCode),
    make: (f, ctx) => {
      const where = ctx.host ?? 'the default socket';
      const hint =
        f.sysCode === 'EACCES'
          ? `permission denied on ${where}: run as a user in the docker group (or root)`
          : ctx.dockerHost
            ? `${ENSURE_HINT}; DOCKER_HOST is set to ${ctx.dockerHost}, check it points at a running engine`
            : ENSURE_HINT;
      return new CmeshError('CMESH_E_ENGINE_UNAVAILABLE', `the Docker engine is not reachable at ${where} (${f.sysCode})`, {
        hint,
        details: { op: ctx.op, sysCode: f.sysCode, host: where },
      });
    },
  },
  {
    name: 'name-conflict',
    when: (f, ctx) => f.status === 409 && CONFLICT_OPS.has(ctx.op),
    make: (f, ctx) => {
      const existingId = ctx.existingId ?? /by container "([0-9a-f]{12,64})"/.exec(f.message)?.[1];
      const what = ctx.op === 'create' || ctx.op === 'rename' ? 'container' : ctx.op.replace(/-create$/, '');
      return new CmeshError(
        'CMESH_E_NAME_CONFLICT',
        `${what} name "${ctx.subject ?? '?'}" is already in use${existingId ? ` by ${existingId.slice(0, 12)}` : ''}`,
        {
          hint: `remove the existing ${what} (docker ${what === 'container' ? 'rm -f' : `${what} rm`} ${ctx.subject ?? ''}) or choose another project name; cmesh only adopts objects labelled with its own project`,
          details: { op: ctx.op, name: ctx.subject, ...(existingId ? { existingId } : {}), engineMessage: f.message },
        },
      );
    },
  },
  {
    // 503 "This node is not a swarm manager" (or not in a swarm at all) on any swarm call.
    name: 'swarm-not-manager',
    when: (f, ctx) => f.status === 503 && SWARM_OPS.has(ctx.op) && /swarm/i.test(f.message),
    make: (f, ctx) => swarmNotManager(f.message, { op: ctx.op }),
  },
  {
    // Swarm refuses an update whose version is no longer the service's: its own updater writes the service too
    // (UpdateStatus) while a rolling update runs. Callers read again and retry (daemon/swarm/update-service.ts).
    name: 'swarm-out-of-sequence',
    when: (f, ctx) => ctx.op === 'service-update' && /update out of sequence/i.test(f.message),
    make: (f, ctx) =>
      new CmeshError('CMESH_E_ENGINE', `service "${ctx.subject ?? '?'}" changed while cmesh updated it (update out of sequence)`, {
        hint: 'Swarm was still writing the service (a rolling update under way); run the command again',
        details: { op: ctx.op, reason: 'out-of-sequence', status: f.status, engineMessage: f.message },
      }),
  },
  {
    name: 'swarm-object-in-use',
    when: (f, ctx) => (ctx.op === 'secret-remove' || ctx.op === 'config-remove') && /in use/i.test(f.message),
    make: (f, ctx) =>
      new CmeshError('CMESH_E_ENGINE', `${ctx.op.replace(/-remove$/, '')} "${ctx.subject ?? '?'}" is still used by a service`, {
        hint: 'remove the services using it first (cmesh down does this in order)',
        details: { op: ctx.op, reason: 'in-use', status: f.status, engineMessage: f.message },
      }),
  },
  {
    name: 'image-missing',
    when: (f, ctx) => f.status === 404 && ctx.op === 'create' && /no such image/i.test(f.message),
    make: (f, ctx) =>
      new CmeshError('CMESH_E_IMAGE_MISSING', `image "${ctx.image ?? '?'}" is not present locally`, {
        hint: 'add a `build:` section or build the image; cmesh never pulls',
        details: { op: ctx.op, image: ctx.image, engineMessage: f.message },
      }),
  },
  {
    name: 'port-taken',
    when: (f) => PORT_RE.test(f.message),
    make: (f, ctx) => {
      const port = portOf(f.message);
      return new CmeshError(
        'CMESH_E_PORT_TAKEN',
        `host port ${port ?? '?'} is already in use${ctx.subject ? ` (starting ${ctx.subject})` : ''}`,
        {
          hint: 'stop whatever listens on that port (ss -ltnp) or choose another port',
          details: { op: ctx.op, ...(port === undefined ? {} : { port }), engineMessage: f.message },
        },
      );
    },
  },
  {
    name: 'volume-path',
    when: (f, ctx) => (ctx.op === 'create' || ctx.op === 'start') && MOUNT_RE.test(f.message),
    make: (f, ctx) =>
      new CmeshError('CMESH_E_VOLUME_PATH', `invalid mount for ${ctx.subject ?? 'container'}: ${f.message}`, {
        hint: 'bind mount sources must be absolute paths that exist on the engine host',
        details: { op: ctx.op, engineMessage: f.message, ...(f.status === undefined ? {} : { status: f.status }) },
      }),
  },
  {
    name: 'network-in-use',
    when: (f, ctx) => ctx.op === 'network-remove' && /active endpoints/i.test(f.message),
    make: (f, ctx) =>
      new CmeshError('CMESH_E_ENGINE', `network "${ctx.subject ?? '?'}" still has containers attached`, {
        hint: 'stop and remove the containers on it first (cmesh down does this in order)',
        details: { op: ctx.op, reason: 'active-endpoints', status: f.status, engineMessage: f.message },
      }),
  },
  inUse('volume-in-use', 'volume-remove', 'volume', 'a container', 'remove the containers using it first'),
  inUse('image-in-use', 'image-remove', 'image', 'a container', 'remove the containers made from it first'),
  {
    name: 'build-rejected',
    when: (f, ctx) => ctx.op === 'build' && f.status !== undefined,
    make: (f, ctx) =>
      new CmeshError('CMESH_E_BUILD_FAILED', `build failed: ${f.message}`, {
        hint: 'check the Dockerfile path and syntax',
        details: { op: ctx.op, status: f.status, output: [] },
      }),
  },
  {
    name: 'engine',
    when: () => true,
    make: (f, ctx) =>
      new CmeshError(
        'CMESH_E_ENGINE',
        `Docker engine error during ${ctx.op}${ctx.subject ? ` of ${ctx.subject}` : ''}: ${f.message}${f.status === undefined ? '' : ` (HTTP ${f.status})`}`,
        {
          details: {
            op: ctx.op,
            engineMessage: f.message,
            ...(f.status === undefined ? {} : { status: f.status }),
            ...(f.sysCode === undefined ? {} : { sysCode: f.sysCode }),
          },
        },
      ),
  },
];

/** The one translation function: any engine failure → CmeshError (a CmeshError passes through unchanged). */
export function translateEngineError(err: unknown, ctx: ErrorContext): CmeshError {
  if (err instanceof CmeshError) return err;
  const failure = engineFailure(err);
  const rule = RULES.find((r) => r.when(failure, ctx))!;
  const out = rule.make(failure, ctx);
  return err instanceof Error ? withCause(out, err) : out;
}

function withCause(error: CmeshError, cause: Error): CmeshError {
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}

/** The engine never reports a volume name conflict itself (it answers 201 with the existing volume): the adapter and the
 * fake both say it with this error. */
export function volumeConflict(name: string): CmeshError {
  return new CmeshError('CMESH_E_NAME_CONFLICT', `volume name "${name}" is already in use by another project`, {
    hint: `remove it (docker volume rm ${name}) or choose another project name`,
    details: { op: 'volume-create', name, existingId: name },
  });
}

/** The host port in "Bind for 127.0.0.1:8080 failed: port is already allocated" / "listen tcp4 0.0.0.0:80: bind: address already in use". */
export function portOf(message: string): number | undefined {
  const m =
    /:(\d{1,5})(?: failed)?: (?:port is already allocated|bind: address already in use)/i.exec(message) ??
    /:(\d{1,5})\b[^:]*(?:port is already allocated|address already in use)/i.exec(message);
  const port = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}
