// The CAs every TLS client of the CLI trusts. bin/cmesh starts node without NODE_EXTRA_CA_CERTS (node 20 parses it
// eagerly, tens of ms of every start) and bin/cmesh.js puts it back into process.env, too late for node's default
// store: so a client connection of the CLI passes these explicitly, node's bundled roots plus the variable's file, as
// node itself would have trusted them. Run as `node bin/cmesh.js` (node read the variable), this is the same set.

import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Env } from './output.ts';

/** TLS options for a client connection: `{ ca }` when NODE_EXTRA_CA_CERTS names a readable file, else node's default. */
export function clientTrust(env: Env = process.env): { ca?: string[] } {
  const file = env['NODE_EXTRA_CA_CERTS'];
  if (!file) return {};
  let extra: string;
  try {
    extra = readFileSync(file, 'utf8');
  } catch {
    // Node goes on with its bundled roots when the file cannot be read; so do we (node's warning about it is printed
    // by the daemon and every other node child, which start with the variable).
    return {};
  }
  return { ca: [...rootCertificates, extra] };
}
