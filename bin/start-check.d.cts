// Types of bin/start-check.cjs (plain CommonJS: bin/cmesh.js runs it before node's ESM loader starts).

export const FORMAT: number;
export const RACY_MS: number;
/** Leading global options the fast path takes (each with a value), and the global each sets. */
export const FAST_GLOBALS: ReadonlyMap<string, 'projectName' | 'file'>;
export function nameHash(text: string): string;
export function cacheDirs(root: string, env?: Record<string, string | undefined>): string[];
export function scopedName(root: string, name: string): string;
/** The fast bundle's path and build name when the CLI's start manifest proves every input unchanged, else undefined. */
export function freshFastBundle(root: string, dirs: string[]): { path: string; build: string } | undefined;
