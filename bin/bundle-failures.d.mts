// Types of bin/bundle-failures.mjs (plain JS, as bundle-cache.mjs, which loads it only when no bundle is fresh).

/** Keys a failure marker by the sources' sizes and mtimes: a marker stands until one of them changes. */
export function failureKey(root: string, name: string, entry: string, dirs?: string[]): string;
/** The remembered error of a build that failed for this key, else undefined. */
export function knownFailure(dirs: string[], name: string, key: string): string | undefined;
