// A private tmux server (its own -L socket) running the real CLI in a fixed-size pane, for terminal UI tests: send
// keys, read the screen, wait for a pattern (bounded; a failure shows the last screen).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { until } from './cmesh-cli.ts';

const exec = promisify(execFile);

export interface TmuxPane {
  tmux(...args: string[]): Promise<string>;
  screen(): Promise<string>;
  keys(...k: string[]): Promise<string>;
  see(what: RegExp, timeoutMs?: number): Promise<string>;
  /** Ends the private server (and everything running in it); safe to call when it never started. */
  kill(): Promise<void>;
}

/** Starts `bash` in a `width`×`height` pane named `name`, with exactly `env` (plus TERM and a plain prompt). */
export async function startPane(socket: string, name: string, env: Record<string, string | undefined>, cwd: string, width = 100, height = 30): Promise<TmuxPane> {
  await exec('tmux', ['-V']).catch(() => {
    throw new Error('tmux is missing: run scripts/ensure-tools.sh');
  });
  const tmux = async (...args: string[]): Promise<string> => (await exec('tmux', ['-L', socket, ...args], { timeout: 5000 })).stdout;
  const vars = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  await exec('env', ['-i', ...vars, 'TERM=xterm-256color', 'PS1=$ ', 'tmux', '-L', socket, 'new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), 'bash --norc --noprofile'], { cwd, timeout: 5000 });
  const screen = (): Promise<string> => tmux('capture-pane', '-p', '-t', name);
  return {
    tmux,
    screen,
    keys: (...k) => tmux('send-keys', '-t', name, ...k),
    see: async (what, timeoutMs = 20_000) => {
      let last = '';
      try {
        return await until(`${what} on screen`, timeoutMs, async () => {
          last = await screen();
          return what.test(last) ? last : undefined;
        }, 200);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`);
      }
    },
    kill: async () => {
      await tmux('kill-server').catch(() => undefined);
    },
  };
}

/** The CLI's environment for a pane: only what cmesh, docker and the shell need. */
export function paneEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && /^(CMESH_|NO_COLOR$|PATH$|HOME$|DOCKER_)/.test(k)));
}
