// Types of bin/bundle-cache.mjs (plain JS so bin/cmesh.js can use it before TypeScript loads).

export function cacheDirs(root: string, env?: Record<string, string | undefined>): string[];
export function loadEsbuild(root: string): typeof import('esbuild');
export function freshBundle(root: string, name: string, dirs: string[]): string | undefined;
export function buildBundle(root: string, name: string, entry: string, dirs: string[]): Promise<string>;
export function ensureBundle(root: string, name: string, entry: string, dirs: string[]): Promise<{ path: string; error?: undefined } | { path?: undefined; error: string }>;
