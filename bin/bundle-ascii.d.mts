// Types of bin/bundle-ascii.mjs (plain JS: bundle-cache.mjs, which builds the daemon's bundle, uses it).

export function asciiSource(text: string): string;
