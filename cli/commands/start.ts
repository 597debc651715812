// `cmesh start [svc...]`: start stopped containers.

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { registerLifecycle } from './lifecycle.ts';

export function register(program: Command, ctx: CliContext): void {
  registerLifecycle(program, ctx, 'start', 'start stopped containers');
}
