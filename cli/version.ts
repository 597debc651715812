// The CLI version, read from package.json so there is one source of truth (works from the repo and when installed).

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function readVersion(): string {
  if (cached === undefined) {
    const url = new URL('../package.json', import.meta.url);
    cached = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  }
  return cached;
}
