// The engine port's interactive side (`cmesh exec`, `cmesh run`, `cmesh cp`): a process's stdio as a session, and
// container archives. Types only; daemon/engine implements them for Docker and the fake.

/** One `docker exec` with its stdio attached (or detached). */
export interface ExecIoSpec {
  command: string[];
  /** Allocate a pseudo-terminal: stdout and stderr arrive as one raw stream (`stdout`), and `resize` applies. */
  tty: boolean;
  /** Attach stdin, so `write`/`endInput` reach the process. */
  stdin: boolean;
  /** Start it and return at once (`exec -d`): the session has no output and its exit code is 0. */
  detach?: boolean;
  user?: string;
  workingDir?: string;
  env?: Record<string, string>;
  privileged?: boolean;
}

export interface IoChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/** A running process's stdio. Close it when done: it owns a hijacked engine connection. */
export interface IoSession {
  /** The process's output, demultiplexed without a TTY; ends when the process closed its output (or on close()). */
  output: AsyncIterable<IoChunk>;
  /** Bytes to the process's stdin (ignored when stdin was not attached). */
  write(data: Buffer): void;
  /** EOF on the process's stdin. */
  endInput(): void;
  /** The TTY's size; a no-op without a TTY. */
  resize(size: { rows: number; cols: number }): Promise<void>;
  /** The process's exit code, once it has ended (exec: the exec's; attach: the container's). */
  exitCode(): Promise<number>;
  close(): void;
}

export interface AttachOptions {
  stdin: boolean;
  /** Must match the container's own Tty setting (ContainerCreateSpec.tty). */
  tty: boolean;
}
