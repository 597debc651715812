// `cmesh restart [svc...]`: restart the project’s containers.

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { registerLifecycle } from './lifecycle.ts';

export function register(program: Command, ctx: CliContext): void {
  registerLifecycle(program, ctx, 'restart', 'restart the project’s containers');
}
