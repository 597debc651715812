// The CLI's side of the control API: HTTP over the daemon's unix socket, typed errors, and auto-starting the daemon
// the first time a verb needs it.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { type IncomingMessage, type RequestOptions, request as httpRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { DaemonInfo, OperationFrame } from '../daemon/api/control.ts';
import { CmeshError, type SerializedError } from '../daemon/api/errors.ts';
import { type CmeshHome, ensureHome, resolveHome } from '../daemon/api/home.ts';
import { IO_UPGRADE } from '../daemon/api/io-frames.ts';
import { daemonLaunch } from './daemon-bundle.ts';
import type { Env, OutStream } from './output.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const START_TIMEOUT_MS = 10_000;

export interface DaemonClientOptions {
  home: CmeshHome;
  env: Env;
  stderr: OutStream;
  /** Start the daemon when nobody answers on the socket (default true). */
  autoStart?: boolean;
}

/** Connection-level failure: nothing listens on the socket (vs. a daemon that answered with an error). */
class Unreachable extends Error {}

function unavailable(home: CmeshHome, why: string): CmeshError {
  return new CmeshError('CMESH_E_DAEMON_UNAVAILABLE', `the cmesh daemon is not reachable at ${home.socket}: ${why}`, {
    hint: `its log is ${home.logFile} (or run \`cmesh daemon logs\`); \`cmesh daemon start\` starts it`,
    details: { socket: home.socket, log: home.logFile },
  });
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class DaemonClient {
  readonly home: CmeshHome;
  readonly #env: Env;
  readonly #stderr: OutStream;
  readonly #autoStart: boolean;
  #started = false;
  /**
   * Set once a request reached a daemon. A daemon that is gone after that stopped (or died) during this command: it is
   * reported, never replaced behind the user's back (the interrupted `up --wait`'s verdict must not start a new daemon
   * that resumes the project mid-outage).
   */
  #reached = false;

  constructor(options: DaemonClientOptions) {
    this.home = options.home;
    this.#env = options.env;
    this.#stderr = options.stderr;
    this.#autoStart = options.autoStart ?? true;
  }

  #send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      // Raw bytes (a tar for `cp`) go as they are; anything else as JSON.
      const raw = Buffer.isBuffer(body);
      const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
      const type = raw ? 'application/x-tar' : 'application/json';
      // A unix socket has no TLS name: an empty `servername` (an agent option @types/node leaves out of
      // RequestOptions) spares the agent's net.isIP on the host, whose IPv6 regex costs a CLI start ~3 ms to compile.
      const options: RequestOptions & { servername: string } = {
        socketPath: this.home.socket,
        servername: '',
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(payload) },
        ...(signal ? { signal } : {}),
      };
      const req = httpRequest(options);
      req.once('response', resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        // Refused or missing socket means no daemon; anything later is a real protocol failure.
        if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(err.code ?? '')) reject(new Unreachable(err.code));
        else if (err.name === 'AbortError') reject(err);
        // Reset after the request went out, or a kept-alive connection it had already closed: the daemon stopped (an
        // outage, exit 1), not a protocol fault.
        else if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reject(unavailable(this.home, 'it went away mid-request (connection reset)'));
        else reject(new CmeshError('CMESH_E_DAEMON_PROTOCOL', `daemon connection failed: ${err.message}`, { cause: err }));
      });
      req.end(payload);
    });
  }

  /** Sends a request, auto-starting the daemon once if nobody listens; non-2xx answers become CmeshErrors. */
  async #open(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
    let res: IncomingMessage;
    try {
      res = await this.#send(method, path, body, signal);
    } catch (err) {
      if (!(err instanceof Unreachable)) throw err;
      if (this.#reached) throw unavailable(this.home, 'it stopped during this command (not restarted: run the command again to start one)');
      if (!this.#autoStart) throw unavailable(this.home, 'not running');
      await this.start();
      // Safe to resend: the first attempt never reached a daemon.
      res = await this.#send(method, path, body, signal).catch((e: unknown) => {
        throw e instanceof Unreachable ? unavailable(this.home, e.message) : e;
      });
    }
    this.#reached = true;
    if ((res.statusCode ?? 500) >= 400) {
      const text = await readBody(res);
      let error: SerializedError | undefined;
      try {
        error = (JSON.parse(text) as { error?: SerializedError }).error;
      } catch {
        // Not ours: fall through to the protocol error below.
      }
      if (error) throw CmeshError.fromJSON(error);
      throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `daemon answered ${res.statusCode} to ${method} ${path}: ${text.slice(0, 200)}`);
    }
    return res;
  }

  /** A successful response as a byte stream (`cp` reads a tar); errors are thrown like request()'s. */
  download(path: string): Promise<IncomingMessage> {
    return this.#open('GET', path);
  }

  /**
   * Opens an upgraded connection (`Upgrade: cmesh-io`, exec and attach sessions). A daemon that refuses answers a
   * normal JSON error, thrown here as its CmeshError. Never auto-starts: the verbs that use it needed a daemon before.
   */
  upgrade(path: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ socketPath: this.home.socket, method: 'GET', path, headers: { connection: 'Upgrade', upgrade: IO_UPGRADE } });
      req.once('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.once('response', (res: IncomingMessage) => {
        void readBody(res).then((text) => {
          let error: SerializedError | undefined;
          try {
            error = (JSON.parse(text) as { error?: SerializedError }).error;
          } catch {
            // Not ours: the protocol error below.
          }
          reject(error ? CmeshError.fromJSON(error) : new CmeshError('CMESH_E_DAEMON_PROTOCOL', `daemon answered ${res.statusCode} to the upgrade ${path}`));
        }, reject);
      });
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(err.code ?? '')) reject(unavailable(this.home, 'not running'));
        else reject(new CmeshError('CMESH_E_DAEMON_PROTOCOL', `daemon connection failed: ${err.message}`, { cause: err }));
      });
      req.end();
    });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await readBody(await this.#open(method, path, body));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `daemon sent invalid JSON for ${method} ${path}`);
    }
  }

  /** NDJSON lines of a streaming route; a `{kind:'error'}` line is thrown as the CmeshError it carries. */
  async *stream<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const res = await this.#open(method, path, body, signal);
    const { createInterface } = await import('node:readline'); // streaming verbs only: not on every start
    const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const value = JSON.parse(line) as { kind?: string; error?: SerializedError };
        if (value.kind === 'error' && value.error) throw CmeshError.fromJSON(value.error);
        yield value as T;
      }
    } catch (err) {
      if (signal?.aborted) return;
      // The daemon died mid-stream (killed, crashed): an expected outage, not a bug in the CLI.
      if (!(err instanceof CmeshError) && !(err instanceof SyntaxError)) {
        throw unavailable(this.home, `the connection dropped during ${method} ${path} (${(err as Error)?.message ?? String(err)})`);
      }
      throw err;
    } finally {
      lines.close();
      res.destroy();
    }
  }

  /** Runs a long operation: hands every event/progress frame to `onFrame`, returns the result value. */
  async operation(path: string, body: unknown, onFrame: (frame: OperationFrame) => void, signal?: AbortSignal): Promise<unknown> {
    for await (const frame of this.stream<OperationFrame>('POST', path, body, signal)) {
      if (frame.kind === 'result') return frame.value;
      onFrame(frame);
    }
    if (signal?.aborted) return undefined;
    throw new CmeshError('CMESH_E_DAEMON_PROTOCOL', `the daemon closed ${path} without a result`, {
      hint: `it may have crashed: see ${this.home.logFile}`,
    });
  }

  /** Info when a daemon answers, undefined when none runs (never auto-starts). */
  async probe(): Promise<DaemonInfo | undefined> {
    try {
      const res = await this.#send('GET', '/v1/info', undefined);
      return JSON.parse(await readBody(res)) as DaemonInfo;
    } catch (err) {
      if (err instanceof Unreachable) return undefined;
      throw err;
    }
  }

  /** Spawns the daemon detached and waits (bounded) until it answers. Says so once on stderr. */
  async start(): Promise<DaemonInfo> {
    const existing = await this.probe();
    if (existing) return existing;
    ensureHome(this.home);
    // A cached esbuild bundle of the daemon (no tsx loader in a long-lived process), else tsx; see daemon-bundle.ts.
    const launch = await daemonLaunch(this.#env);
    const { spawn } = await import('node:child_process'); // only an auto-start: not on every CLI start
    const logFd = openSync(this.home.logFile, 'a', 0o600);
    if (launch.fallback) writeSync(logFd, `${new Date().toISOString()} cmesh: running the daemon through tsx: ${launch.fallback}\n`);
    const child = spawn(process.execPath, launch.args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...this.#env, ...launch.env, CMESH_HOME: this.home.home },
      cwd: REPO,
    });
    closeSync(logFd);
    let exit: number | null | undefined;
    child.once('exit', (code) => {
      exit = code;
    });
    child.unref();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const info = await this.probe().catch(() => undefined);
      if (info) {
        // Another CLI's daemon won the race: let ours boot and bow out (exit 8) before returning, or it could start
        // late — after that daemon stopped — and linger as a daemon nobody asked for.
        while (info.pid !== child.pid && exit === undefined && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        if (!this.#started) this.#stderr.write(`cmesh: started the daemon (pid ${info.pid}, log ${this.home.logFile})\n`);
        this.#started = true;
        return info;
      }
      // Exit code 8 (conflict) means another CLI won the race to start one: keep waiting for that daemon.
      if (exit !== undefined && exit !== 8) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const why = exit !== undefined ? `it exited with code ${exit}` : `it did not answer within ${START_TIMEOUT_MS / 1000} s`;
    const err = unavailable(this.home, `started the daemon but ${why}`);
    err.details['logTail'] = tailOf(this.home.logFile, 20);
    throw err;
  }
}

export function createDaemonClient(ctx: { env: Env; stderr: OutStream }, options: { autoStart?: boolean } = {}): DaemonClient {
  return new DaemonClient({ home: resolveHome(ctx.env), env: ctx.env, stderr: ctx.stderr, ...options });
}
