// The Docker config directory the docker CLI would use: the daemon reads pull credentials from the invoking user's.

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from './output.ts';

export function dockerConfigDir(env: Env): string {
  return env.DOCKER_CONFIG ? env.DOCKER_CONFIG : join(env.HOME ?? homedir(), '.docker');
}
