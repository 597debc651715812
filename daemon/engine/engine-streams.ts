// Stream plumbing for the dockerode adapter: open a streaming endpoint, drain it with clean teardown, run an exec.

import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { ExecOptions, ExecResult } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { StreamDemuxer } from './log-demux.ts';
import { type LinkedAbort, linkAbort, waitLimit } from './stream-util.ts';

/**
 * GETs a streaming endpoint through docker-modem, always as a stream (dockerode buffers non-follow logs). Returns
 * undefined when `signal` aborted first; throws the raw engine error otherwise (the adapter translates it).
 */
export async function openStream(
  docker: Docker,
  path: string,
  query: Record<string, unknown>,
  signal: AbortSignal | undefined,
): Promise<{ stream: IncomingMessage; link: LinkedAbort } | undefined> {
  const link = linkAbort(signal);
  try {
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      docker.modem.dial(
        {
          path,
          method: 'GET',
          options: query,
          isStream: true,
          abortSignal: link.signal,
          statusCodes: { 200: true, 400: 'bad request', 404: 'no such object', 500: 'server error' },
        },
        (err, data) => (err ? reject(err) : resolve(data as IncomingMessage)),
      );
    });
    return { stream, link };
  } catch (err) {
    link.dispose();
    if (signal?.aborted) return undefined;
    throw err;
  }
}

/**
 * Reads a response to its end, mapping chunks to items. Abort destroys the response (and its socket) and ends the
 * iteration quietly; the finally block destroys it on every exit, including a consumer that stops iterating early,
 * so no descriptor or abort listener outlives the iteration.
 */
export async function* drainStream<T>(
  stream: Readable,
  link: LinkedAbort,
  onChunk: (chunk: Buffer) => T[],
  onEnd: () => T[],
  onError: (err: unknown) => Error,
): AsyncGenerator<T> {
  const onAbort = () => stream.destroy();
  link.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      for (const item of onChunk(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))) yield item;
    }
    if (link.signal.aborted) return;
    for (const item of onEnd()) yield item;
  } catch (err) {
    if (link.signal.aborted) return;
    throw onError(err);
  } finally {
    link.signal.removeEventListener('abort', onAbort);
    stream.destroy();
    link.dispose();
  }
}

/**
 * Runs a command without a TTY over a hijacked connection and waits for the engine to record its exit code. With a
 * timeout or signal the wait can end first: the socket is dropped and the answer says `timedOut`; the process itself
 * runs on (the Engine API has no way to kill an exec), so `stillRunning()` asks exec inspect about it.
 */
export async function runExec(docker: Docker, id: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const exec = await docker
    .getContainer(id)
    .exec({
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
      ...(options.user === undefined ? {} : { User: options.user }),
      ...(options.workingDir === undefined ? {} : { WorkingDir: options.workingDir }),
      ...(options.env === undefined ? {} : { Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) }),
      ...(options.privileged === undefined ? {} : { Privileged: options.privileged }),
    });
  const socket = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & Readable;
  const demux = new StreamDemuxer();
  const parts: Buffer[] = [];
  const gaveUp = waitLimit(options);
  const output = (): string => Buffer.concat(parts).toString('utf8');
  const drained = (async () => {
    for await (const chunk of socket) for (const frame of demux.push(chunk as Buffer)) parts.push(frame.data);
  })();
  try {
    const first = await Promise.race([drained.then(() => 'done' as const), gaveUp.promise]);
    if (first === 'gave-up') {
      drained.catch(() => undefined); // the socket is destroyed below; its read error is expected
      const stillRunning = async (): Promise<boolean> => (await exec.inspect()).Running === true;
      return { exitCode: -1, output: output(), timedOut: true, stillRunning };
    }
  } finally {
    gaveUp.dispose();
    socket.destroy();
  }
  // The stream can close a moment before the engine records the exit code.
  for (let attempt = 0; ; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) {
      return { exitCode: info.ExitCode, output: output() };
    }
    if (attempt >= 50) throw new CmeshError('CMESH_E_ENGINE', `exec in ${id} did not report an exit code`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
