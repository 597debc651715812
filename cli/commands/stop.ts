// `cmesh stop [svc...]`: stop containers without removing them (they stay stopped until start or up).

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { registerLifecycle } from './lifecycle.ts';

export function register(program: Command, ctx: CliContext): void {
  registerLifecycle(program, ctx, 'stop', 'stop containers without removing them (they stay stopped until start or up)');
}
