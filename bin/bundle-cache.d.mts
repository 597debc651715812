// Types of bin/bundle-cache.mjs (plain JS so bin/cmesh.js can use it before TypeScript loads).

export function cacheDirs(root: string, env?: Record<string, string | undefined>): string[];
/** `<name>-<hash of root>`: the name bundles, manifests and failure markers of this root are stored under. */
export function scopedName(root: string, name: string): string;
export function freshBundle(root: string, name: string, dirs: string[]): string | undefined;
export function freshByStats(root: string, name: string, dirs: string[]): string | undefined;
export interface EnsureBundleOptions {
  /** Where the one-line warning of a failed build goes (default: stderr); called once per failing source state. */
  warn?: (line: string) => void;
  /** Installs the lazy-chunk check (bundle-chunks.mjs): called with the changed file instead of running a stale chunk. */
  onStaleChunk?: (file: string) => void;
  /** Also build this entry (relative to root) as the fast bundle: one CommonJS file beside the bundle (start-check.cjs). */
  fastEntry?: string;
}
export function ensureBundle(
  root: string,
  name: string,
  entry: string,
  dirs: string[],
  options?: EnsureBundleOptions,
): Promise<{ path: string; error?: undefined } | { path?: undefined; error: string }>;
