// Where the daemon keeps its state: CMESH_HOME, else $XDG_STATE_HOME/cmesh, else ~/.local/state/cmesh. Part of the
// contract: the CLI finds the daemon's socket, pid file and log through the same layout.

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CmeshError } from './errors.ts';

export interface CmeshHome {
  home: string;
  /** Control API unix socket (mode 0600). */
  socket: string;
  /** Holds the daemon pid; also the single-instance lock (created with O_EXCL). */
  pidFile: string;
  /** The auto-started daemon's stdout/stderr. */
  logFile: string;
  /** One desired-state JSON per project. */
  projectsDir: string;
}

// sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS); a longer path fails with an obscure EINVAL at listen.
const MAX_SOCKET_PATH = 103;

export function resolveHome(env: Record<string, string | undefined> = process.env): CmeshHome {
  let home: string;
  if (env['CMESH_HOME']) home = resolve(env['CMESH_HOME']);
  else if (env['XDG_STATE_HOME']) home = join(resolve(env['XDG_STATE_HOME']), 'cmesh');
  else home = join(homedir(), '.local', 'state', 'cmesh');
  const socket = join(home, 'daemon.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new CmeshError('CMESH_E_USAGE', `daemon socket path is too long for a unix socket: ${socket}`, {
      hint: 'set CMESH_HOME to a shorter directory, e.g. CMESH_HOME=/tmp/cmesh-$USER',
    });
  }
  return {
    home,
    socket,
    pidFile: join(home, 'daemon.pid'),
    logFile: join(home, 'daemon.log'),
    projectsDir: join(home, 'projects'),
  };
}

/** Creates the home private to the user: it holds the socket that controls their containers. */
export function ensureHome(home: CmeshHome): void {
  mkdirSync(home.home, { recursive: true, mode: 0o700 });
  mkdirSync(home.projectsDir, { recursive: true, mode: 0o700 });
}

/** Whether a process of this pid exists (the daemon's, say): signal 0 checks without sending; EPERM: it exists, not ours. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
