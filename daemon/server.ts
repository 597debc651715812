// The control API server: HTTP on a 0600 unix socket, guarded by a pid lock so exactly one daemon owns a home.
//
// Ownership is the socket inode: a pid file alone cannot settle two daemons racing over a stale lock, so a daemon
// whose socket was replaced (it lost such a race) notices within seconds and shuts itself down instead of lingering.

import { readFileSync } from 'node:fs';
import { chmod, link, lstat, readFile, unlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { CmeshError } from './api/errors.ts';
import { type CmeshHome, processAlive } from './api/home.ts';

const OWNERSHIP_CHECK_MS = 2000;

/** True when something accepts connections on the socket (a live daemon); false for a stale file or none. */
export function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const done = (alive: boolean): void => {
      sock.destroy();
      resolve(alive);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// After a reboot a stale pid may belong to an unrelated process; on Linux its command line tells.
function looksLikeDaemon(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /daemon[/\\]main\.ts|daemon\0run/.test(cmdline);
  } catch {
    return true;
  }
}

function alreadyRunning(home: CmeshHome, pid: number | undefined): CmeshError {
  return new CmeshError('CMESH_E_LOCKED', `a cmesh daemon${pid ? ` (pid ${pid})` : ''} already serves ${home.socket}`, {
    hint: 'use `cmesh daemon status`, or `cmesh daemon stop` before starting another one',
    details: { pid, socket: home.socket },
  });
}

/**
 * Takes the pid file: written under a private name, then hard-linked into place, so the file never exists without
 * its content (a racing daemon would read an empty file as stale) and of two racers exactly one link succeeds.
 */
async function acquirePidLock(home: CmeshHome): Promise<void> {
  const mine = `${home.pidFile}.${process.pid}`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(mine, home.pidFile);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number.parseInt(await readFile(home.pidFile, 'utf8').catch(() => ''), 10);
      // Our own pid means a daemon in this very process (tests, `daemon run` twice) owns the home.
      if (pid === process.pid || (Number.isInteger(pid) && pid > 0 && processAlive(pid) && looksLikeDaemon(pid))) {
        throw alreadyRunning(home, pid);
      }
      await unlink(home.pidFile).catch(() => undefined);
    }
    throw alreadyRunning(home, undefined);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function releasePidLock(home: CmeshHome): Promise<void> {
  const pid = Number.parseInt(await readFile(home.pidFile, 'utf8').catch(() => ''), 10);
  if (pid === process.pid) await unlink(home.pidFile).catch(() => undefined);
}

async function inodeOf(path: string): Promise<number | undefined> {
  return (await lstat(path).catch(() => undefined))?.ino;
}

export interface ControlServer {
  server: Server;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Called when another process took over the socket path: this daemon is unreachable and should exit. */
  onLost?: () => void;
  /** `Connection: Upgrade` requests (exec/attach sessions); without it node closes such connections. */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export async function listenControl(
  home: CmeshHome,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: ListenOptions = {},
): Promise<ControlServer> {
  await acquirePidLock(home);
  // From here on the pid file is ours: release it on failure (and only then, never another daemon's).
  try {
    // A daemon started without our pid file (older version, other home layout) may still own the socket.
    if (await probeSocket(home.socket)) throw alreadyRunning(home, undefined);
    await unlink(home.socket).catch(() => undefined);
    const server = createServer(handler);
    if (options.onUpgrade) server.on('upgrade', options.onUpgrade);
    // Streams (logs -f, events) stay open for hours: no request or keep-alive timeouts on a local socket.
    server.requestTimeout = 0;
    server.headersTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    // umask before listen: a chmod afterwards alone would leave a window where others could connect.
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(home.socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    await chmod(home.socket, 0o600);
    const ino = await inodeOf(home.socket);
    const watchdog = setInterval(() => {
      void inodeOf(home.socket).then((now) => {
        if (now !== ino) options.onLost?.();
      });
    }, OWNERSHIP_CHECK_MS);
    watchdog.unref();
    return {
      server,
      close: async () => {
        clearInterval(watchdog);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Long-lived streams would keep close() waiting forever.
          server.closeAllConnections();
        });
        // Only our own socket: a daemon that lost the path to another must not delete the winner's.
        if ((await inodeOf(home.socket)) === ino) await unlink(home.socket).catch(() => undefined);
        await releasePidLock(home);
      },
    };
  } catch (err) {
    await releasePidLock(home);
    throw err;
  }
}
