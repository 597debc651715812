// Types of bin/name-hash.mjs (plain JS so bin/cmesh.js can use it before TypeScript loads).

import type { Hash } from 'node:crypto';

export function nameHash(text: string): string;
export function sha256(): Hash;
