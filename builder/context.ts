// Deterministic build contexts: the same sources always give the same tar bytes and the same hash (STYLE habit 10).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import {
  byteOrder,
  contextError,
  isInside,
  tooLarge,
  unreadable,
  type WalkEntry,
  walkContext,
} from './context-walk.ts';
import { loadDockerignore } from './dockerignore.ts';
import { contextHash, type HashedEntry, hashFile, sha256 } from './hash.ts';

export const DEFAULT_MAX_CONTEXT_BYTES = 512 * 1024 * 1024;
/** 2000-01-01: a fixed mtime keeps tars stable; epoch 0 trips some tools that treat it as "unset". */
export const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));
/** How many files are hashed at once: enough to hide disk latency, few enough to stay far from fd limits. */
const HASH_CONCURRENCY = 8;

export interface BuildContextOptions {
  contextDir: string;
  /** Relative to contextDir (Compose semantics) or absolute; default `Dockerfile`. May lie outside the context. */
  dockerfile?: string;
  /** Compose `dockerfile_inline`: this text is the Dockerfile (shipped like an out-of-context one); `dockerfile` is ignored. */
  dockerfileInline?: string;
  maxBytes?: number;
}

export interface ContextEntry extends HashedEntry {
  size: number;
}

export interface BuildContext {
  /** The tar, lazily produced: no file is opened until it is read. Single use; call openTar() for another. */
  tar: Readable;
  /** Another tar; `extra` files (generated after hashing, see build.ts) are added or replace same-named entries. */
  openTar(extra?: readonly ExtraFile[]): Readable;
  /** The Dockerfile's bytes as shipped. */
  dockerfileContent(): Promise<Buffer>;
  /** The context's .dockerignore bytes, or undefined when it has none. */
  dockerignoreContent(): Promise<Buffer | undefined>;
  /** See hash.ts contextHash: equal hashes mean byte-identical tars. */
  hash: string;
  /** Regular files and symlinks in the tar. */
  files: number;
  /** Content bytes (not tar framing). */
  bytes: number;
  /** The Dockerfile's path inside the tar: its context-relative path, or `.cmesh-dockerfile-<hash12>`. */
  dockerfileInTar: string;
  entries: readonly ContextEntry[];
}

export interface ExtraFile {
  /** Context-relative POSIX path. */
  name: string;
  content: Buffer;
}

interface PackEntry extends WalkEntry {
  digest: string;
  /** In-memory content (the out-of-context Dockerfile). */
  content?: Buffer;
}

export async function createBuildContext(options: BuildContextOptions): Promise<BuildContext> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CONTEXT_BYTES;
  let root: string;
  try {
    root = await realpath(options.contextDir);
    if (!(await stat(root)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    throw contextError(
      `build context ${options.contextDir} is not a readable directory`,
      'check `build.context` in the compose file',
      options.contextDir,
      err,
    );
  }
  const dockerfile =
    options.dockerfileInline !== undefined
      ? { abs: join(root, 'dockerfile_inline'), content: Buffer.from(options.dockerfileInline, 'utf8') }
      : await locateDockerfile(root, options.contextDir, options.dockerfile ?? 'Dockerfile');
  const ignore = await loadDockerignore(root);
  const forced = new Set(['.dockerignore']);
  if (dockerfile.rel !== undefined) forced.add(dockerfile.rel);

  const walked = await walkContext({ root, ignore, forced, maxBytes });
  const entries: PackEntry[] = await mapLimit(walked, HASH_CONCURRENCY, async (e) => {
    if (e.type === 'directory') return { ...e, digest: '' };
    if (e.type === 'symlink') return { ...e, digest: sha256(e.linkname ?? '') };
    try {
      return { ...e, digest: (await hashFile(e.abs)).sha256 };
    } catch (err) {
      throw unreadable(e.abs, err);
    }
  });

  let dockerfileInTar: string;
  if (dockerfile.rel !== undefined) {
    dockerfileInTar = dockerfile.rel;
    if (!entries.some((e) => e.rel === dockerfileInTar && e.type !== 'directory')) {
      throw contextError(
        `Dockerfile ${dockerfile.abs} not found`,
        'check `build.dockerfile` (it is relative to the build context)',
        dockerfile.abs,
      );
    }
  } else {
    // Compose allows `dockerfile: ../Dockerfile` and `dockerfile_inline`; the engine only reads inside the tar, so
    // ship it under a content-derived name that cannot collide with a user file by accident and stays stable.
    const content = dockerfile.content!;
    const digest = sha256(content);
    dockerfileInTar = `.cmesh-dockerfile-${digest.slice(0, 12)}`;
    const entry: PackEntry = {
      rel: dockerfileInTar,
      abs: dockerfile.abs,
      type: 'file',
      mode: 0o644,
      size: content.length,
      digest,
      content,
    };
    entries.push(entry);
    entries.sort((a, b) => byteOrder(a.rel, b.rel));
  }

  const bytes = entries.reduce((n, e) => n + e.size, 0);
  if (bytes > maxBytes) throw tooLarge(root, bytes, maxBytes);
  const hashed: ContextEntry[] = entries.map((e) => ({
    name: e.rel,
    type: e.type,
    mode: e.mode,
    digest: e.digest,
    size: e.size,
  }));
  const openTar = (extra: readonly ExtraFile[] = []) => packEntries(extra.length === 0 ? entries : withExtra(entries, extra));
  const dockerignore = entries.find((e) => e.rel === '.dockerignore' && e.type === 'file');
  return {
    tar: openTar(),
    openTar,
    dockerfileContent: async () => dockerfile.content ?? (await readFile(dockerfile.abs)),
    dockerignoreContent: async () => (dockerignore ? await readFile(dockerignore.abs) : undefined),
    hash: contextHash(hashed, dockerfileInTar),
    files: entries.filter((e) => e.type !== 'directory').length,
    bytes,
    dockerfileInTar,
    entries: hashed,
  };
}

async function locateDockerfile(
  root: string,
  contextDir: string,
  dockerfile: string,
): Promise<{ abs: string; rel?: string; content?: Buffer }> {
  // Resolve against the path the user gave, then compare with the real root so /tmp → /private/tmp style links agree.
  const given = resolve(contextDir, dockerfile);
  let abs = given;
  try {
    abs = await realpath(given);
  } catch {
    // Missing: reported below with the path the user wrote.
  }
  if (isInside(root, abs)) return { abs: given, rel: relative(root, abs).split('\\').join('/') };
  try {
    return { abs: given, content: await readFile(abs) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw contextError(`Dockerfile ${given} not found`, 'check `build.dockerfile` in the compose file', given, err);
    }
    throw unreadable(given, err);
  }
}

/** Writes entries into a tar with fixed owner/mtime; nothing starts until the consumer reads. */
function withExtra(entries: readonly PackEntry[], extra: readonly ExtraFile[]): PackEntry[] {
  const names = new Set(extra.map((x) => x.name));
  const added: PackEntry[] = extra.map((x) => ({ rel: x.name, abs: x.name, type: 'file', mode: 0o644, size: x.content.length, digest: '', content: x.content }));
  return [...entries.filter((e) => !names.has(e.rel)), ...added].sort((a, b) => byteOrder(a.rel, b.rel));
}

function packEntries(entries: readonly PackEntry[]): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    const tar = pack();
    const base = { uid: 0, gid: 0, uname: '', gname: '', mtime: FIXED_MTIME };
    const writer = (async () => {
      for (const e of entries) {
        if (e.type === 'directory') {
          tar.entry({ ...base, name: `${e.rel}/`, type: 'directory', mode: e.mode });
        } else if (e.type === 'symlink') {
          tar.entry({ ...base, name: e.rel, type: 'symlink', mode: e.mode, linkname: e.linkname ?? '' });
        } else if (e.content !== undefined) {
          tar.entry({ ...base, name: e.rel, type: 'file', mode: e.mode, size: e.size }, e.content);
        } else {
          await packFile(tar, { ...base, name: e.rel, type: 'file', mode: e.mode, size: e.size }, e);
        }
      }
      tar.finalize();
    })().catch((err: unknown) => tar.destroy(err as Error));
    let finished = false;
    try {
      for await (const chunk of tar) yield chunk as Buffer;
      finished = true;
    } finally {
      // A consumer that stops early (engine error, abort) must not leave the writer blocked on backpressure.
      if (!finished) (tar as unknown as { destroy(): void }).destroy();
      void writer;
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

type Pack = ReturnType<typeof pack>;

async function packFile(tar: Pack, header: Parameters<Pack['entry']>[0], e: PackEntry): Promise<void> {
  if (e.size === 0) {
    tar.entry(header, Buffer.alloc(0));
    return;
  }
  const sink = tar.entry(header);
  // Read exactly the hashed length and re-check the digest: a file edited mid-build must not ship under an old hash.
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(e.abs, { start: 0, end: e.size - 1 }), tap, sink);
  } catch (err) {
    throw unreadable(e.abs, err);
  }
  if (hash.digest('hex') !== e.digest) {
    throw contextError(
      `${e.rel} changed while the build context was being sent`,
      'run the build again once edits settle',
      e.abs,
    );
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
