// The dockerode adapter's interactive side: exec and attach over the engine's hijacked connection, wait, getArchive.

import type { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { AttachOptions, ExecIoSpec, IoChunk, IoSession } from '../api/engine-io.ts';
import { CmeshError } from '../api/errors.ts';
import type { DockerCalls } from './docker-calls.ts';
import { StreamDemuxer } from './log-demux.ts';

/** A hijacked socket as an IoSession: raw bytes with a TTY, Docker's 8-byte frames without one. */
function socketSession(
  socket: Duplex,
  tty: boolean,
  resize: (size: { rows: number; cols: number }) => Promise<void>,
  exitCode: () => Promise<number>,
): IoSession {
  async function* output(): AsyncGenerator<IoChunk> {
    const demux = new StreamDemuxer();
    try {
      for await (const chunk of socket) {
        const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        if (tty) yield { stream: 'stdout', data };
        else for (const frame of demux.push(data)) yield { stream: frame.stream, data: frame.data };
      }
    } catch (err) {
      // A close() from our side ends the output; anything else is the engine dropping the connection.
      if (!socket.destroyed) throw err;
    }
  }
  return {
    output: output(),
    write: (data) => {
      if (!socket.destroyed && !socket.writableEnded) socket.write(data);
    },
    // A half-close is how the engine learns stdin's EOF on a hijacked connection.
    endInput: () => {
      if (!socket.destroyed && !socket.writableEnded) socket.end();
    },
    resize: (size) => (tty ? resize(size) : Promise.resolve()),
    exitCode,
    close: () => socket.destroy(),
  };
}

/** `exec -d`: the engine runs the process on its own; there is nothing to read or write. */
function detachedSession(): IoSession {
  return {
    output: (async function* () {})(),
    write: () => undefined,
    endInput: () => undefined,
    resize: async () => undefined,
    exitCode: async () => 0,
    close: () => undefined,
  };
}

export class DockerIo {
  readonly #d: DockerCalls;

  constructor(calls: DockerCalls) {
    this.#d = calls;
  }

  async execIo(id: string, spec: ExecIoSpec): Promise<IoSession> {
    return this.#d.call({ op: 'exec', subject: id }, async () => {
      const options: Docker.ExecCreateOptions = {
        Cmd: spec.command,
        AttachStdin: spec.stdin && !spec.detach,
        AttachStdout: !spec.detach,
        AttachStderr: !spec.detach,
        Tty: spec.tty,
        ...(spec.user ? { User: spec.user } : {}),
        ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
        ...(spec.env ? { Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) } : {}),
        ...(spec.privileged ? { Privileged: true } : {}),
      };
      const exec = await this.#d.docker.getContainer(id).exec(options);
      if (spec.detach) {
        await exec.start({ Detach: true });
        return detachedSession();
      }
      const socket = (await exec.start({ hijack: true, stdin: spec.stdin, Tty: spec.tty })) as unknown as Duplex;
      const exitCode = async (): Promise<number> => {
        // The stream can close a moment before the engine records the exit code.
        for (let attempt = 0; attempt < 100; attempt++) {
          const info = await exec.inspect();
          if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new CmeshError('CMESH_E_ENGINE', `exec in ${id} did not report an exit code`);
      };
      return socketSession(socket, spec.tty, async ({ rows, cols }) => {
        await exec.resize({ h: rows, w: cols });
      }, exitCode);
    });
  }

  async attach(id: string, options: AttachOptions): Promise<IoSession> {
    return this.#d.call({ op: 'attach', subject: id }, async () => {
      const container = this.#d.docker.getContainer(id);
      const socket = (await container.attach({
        stream: true,
        stdin: options.stdin,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as unknown as Duplex;
      return socketSession(socket, options.tty, async ({ rows, cols }) => {
        await container.resize({ h: rows, w: cols });
      }, () => this.wait(id));
    });
  }

  wait(id: string): Promise<number> {
    return this.#d.call({ op: 'wait', subject: id }, async () => {
      const answer = (await this.#d.docker.getContainer(id).wait({ condition: 'not-running' })) as { StatusCode: number };
      return answer.StatusCode;
    });
  }

  getArchive(id: string, path: string): Promise<Readable> {
    return this.#d.call({ op: 'archive', subject: `${id}:${path}` }, async () => {
      return (await this.#d.docker.getContainer(id).getArchive({ path })) as unknown as Readable;
    });
  }
}
