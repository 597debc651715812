#!/usr/bin/env node
// Entry shim: cmesh ships as TypeScript and runs through tsx, so the installed CLI and the repo run the same code.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
register({ tsconfig: join(root, 'tsconfig.json') });
await import('../cli/main.ts');
