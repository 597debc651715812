// Content hashes for build contexts and the build cache key: cheap to compute, stable across machines and runs.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Bump when the tuple format below changes, so old cache labels stop matching instead of lying. */
const CONTEXT_HASH_VERSION = 'cmesh-context-v1';
const CACHE_KEY_VERSION = 'cmesh-build-v1';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Streams a file through sha256 so large files never sit in memory. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** What the context hash sees of one tar entry: exactly the fields the packer writes (mtime/owner are fixed). */
export interface HashedEntry {
  /** Path inside the tar, no trailing slash. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  /** sha256 of the content (files) or the link target (symlinks); empty for directories. */
  digest: string;
}

/**
 * The context hash: sha256 over the sorted (type, path, mode, content-digest) tuples plus the Dockerfile's path in
 * the tar. We hash tuples rather than the tar bytes so a cache hit needs no tar encoding and the tar can stay a lazy
 * stream; since the packer writes nothing else that varies (fixed mtime, uid/gid 0, empty names), equal hashes
 * mean byte-identical tars. NUL separators keep field boundaries unambiguous.
 */
export function contextHash(entries: readonly HashedEntry[], dockerfileInTar: string): string {
  const h = createHash('sha256');
  h.update(`${CONTEXT_HASH_VERSION}\0dockerfile\0${dockerfileInTar}\n`);
  for (const e of entries) h.update(`${e.type}\0${e.name}\0${e.mode.toString(8)}\0${e.digest}\n`);
  return h.digest('hex');
}

export interface CacheKeyInput {
  contextHash: string;
  dockerfile: string;
  args?: Record<string, string>;
  target?: string | undefined;
  labels?: Record<string, string>;
  /** Build-time environment of RUN steps (extra_hosts, network, shm_size, ulimits, platform): what a RUN may see. */
  environment?: unknown;
}

/**
 * The build cache key (stored as the image label dev.cmesh.context-hash): everything that changes the image the
 * engine would produce from this context, with maps sorted so key order in compose files does not matter.
 * Not covered: a rebuilt base image under the same tag (use --no-cache / force for that).
 */
export function buildCacheKey(input: CacheKeyInput): string {
  const sorted = (m: Record<string, string> = {}) => Object.keys(m).sort().map((k) => [k, m[k]]);
  return sha256(
    JSON.stringify([
      CACHE_KEY_VERSION,
      input.contextHash,
      input.dockerfile,
      sorted(input.args),
      input.target ?? null,
      sorted(input.labels),
      // Appended only when set, so keys of builds without these options stay what they were.
      ...(input.environment === undefined ? [] : [input.environment]),
    ]),
  );
}
