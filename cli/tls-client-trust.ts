// The CAs every TLS client of the CLI trusts. bin/cmesh starts node without NODE_EXTRA_CA_CERTS (node 20 parses it
// eagerly, tens of ms of every start) and bin/cmesh.js puts it back into process.env, too late for node's default
// store: so a client connection of the CLI passes these explicitly, node's bundled roots plus the variable's file, as
// node itself would have trusted them. Run as `node bin/cmesh.js` (node read the variable), this is the same set.

import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { Env } from './output.ts';

/**
 * One context per file for the process's life: building it parses node's ~140 roots and the whole file (often the
 * system store), tens of ms, and `up --wait` probes a TLS port every ~100 ms until it answers.
 */
const contexts = new Map<string, SecureContext | undefined>();

/** TLS options for a client connection: a context with those CAs when NODE_EXTRA_CA_CERTS names a readable file. */
export function clientTrust(env: Env = process.env): { secureContext?: SecureContext } {
  const file = env['NODE_EXTRA_CA_CERTS'];
  if (!file) return {};
  if (!contexts.has(file)) contexts.set(file, contextOf(file));
  const secureContext = contexts.get(file);
  return secureContext ? { secureContext } : {};
}

function contextOf(file: string): SecureContext | undefined {
  let extra: string;
  try {
    extra = readFileSync(file, 'utf8');
  } catch {
    // Node goes on with its bundled roots when the file cannot be read; so do we (node's warning about it is printed
    // by the daemon and every other node child, which start with the variable).
    return undefined;
  }
  return createSecureContext({ ca: [...rootCertificates, extra] });
}
