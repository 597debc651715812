// Hashes without loading node:crypto at start: crypto's ~15 internal modules cost a CLI start ~7 ms of CPU. A cache
// file name only has to tell a few inputs apart, so it takes FNV-1a (start-check.cjs); content hashes load crypto on
// first use. Plain JS: bin/ runs before any TypeScript can load.

import { createRequire } from 'node:module';
import { nameHash } from './start-check.cjs';

export { nameHash };

/** A new sha-256 Hash; node:crypto is loaded by the first call. */
export function sha256() {
  return createRequire(import.meta.url)('node:crypto').createHash('sha256');
}
