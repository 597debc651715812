// Per-service access logs: one JSON line per proxied request (or TCP connection) appended to
// CMESH_HOME/logs/<project>-<service>.access.log when the service sets `x-cmesh.access_log: true`.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export class AccessLogFiles {
  readonly #dir: string;
  readonly #files = new Map<string, WriteStream>();
  readonly #onError: (message: string) => void;

  constructor(dir: string, onError: (message: string) => void = () => undefined) {
    this.#dir = dir;
    this.#onError = onError;
  }

  path(project: string, service: string): string {
    return join(this.#dir, `${project}-${service}.access.log`);
  }

  write(project: string, service: string, line: string): void {
    const key = `${project}/${service}`;
    let file = this.#files.get(key);
    if (!file) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      file = createWriteStream(this.path(project, service), { flags: 'a', mode: 0o600 });
      file.on('error', (err) => {
        this.#onError(`access log of ${key}: ${err.message}`);
        this.#files.delete(key);
      });
      this.#files.set(key, file);
    }
    // Past the high-water mark the line is dropped rather than buffered: a stuck disk must not grow the daemon.
    if (file.writableLength < 4 * 1024 * 1024) file.write(`${line}\n`);
  }

  /** Closes the project's files (down) or all of them (daemon stop). */
  async close(project?: string): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, file] of this.#files) {
      if (project !== undefined && !key.startsWith(`${project}/`)) continue;
      this.#files.delete(key);
      closing.push(new Promise((resolve) => file.end(() => resolve())));
    }
    await Promise.all(closing);
  }
}
