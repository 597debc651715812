// Hashes without loading node:crypto at start: crypto's ~15 internal modules cost a CLI start ~7 ms of CPU. A cache
// file name only has to tell a few inputs apart (each cache that names files this way also stores and compares the
// full key), so it takes FNV-1a; content hashes load crypto on first use. Plain JS: bin/cmesh.js needs it.

import { createRequire } from 'node:module';

/** FNV-1a over the UTF-16 code units, 32 bits, as 8 hex digits. */
export function nameHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A new sha-256 Hash; node:crypto is loaded by the first call. */
export function sha256() {
  return createRequire(import.meta.url)('node:crypto').createHash('sha256');
}
