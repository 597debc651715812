// Walks a build context the way `docker build` selects files: .dockerignore applied, forced files kept, symlinks
// checked against the context root, special files refused; returns entries sorted in byte order of their paths.

import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CmeshError } from '../daemon/api/errors.ts';
import type { DockerIgnore } from './dockerignore.ts';

export interface WalkEntry {
  /** Context-relative POSIX path, no trailing slash. */
  rel: string;
  abs: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  /** Symlinks only: the target as written into the tar (relative when it pointed inside by absolute path). */
  linkname?: string;
}

export interface WalkOptions {
  /** Real (symlink-resolved) path of the context root. */
  root: string;
  ignore: DockerIgnore;
  /** Context-relative paths sent even when ignored (the Dockerfile and .dockerignore: Docker's rule). */
  forced: ReadonlySet<string>;
  maxBytes: number;
}

export function contextError(message: string, hint: string, path: string, cause?: unknown): CmeshError {
  return new CmeshError('CMESH_E_BUILD_CONTEXT', message, {
    hint,
    details: { path },
    ...(cause === undefined ? {} : { cause }),
  });
}

export function unreadable(abs: string, err: unknown): CmeshError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return contextError(
    `cannot read ${abs} in the build context (${code})`,
    'make it readable by the daemon user (chmod a+r), or exclude it in .dockerignore',
    abs,
    err,
  );
}

/** Lexical containment; `root` itself counts as inside. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Byte order of UTF-8 paths, like Go's sort.Strings; localeCompare would differ across machines. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Regular files keep their exec bits exactly; read/write bits are normalized so umask never changes the hash. */
export function normalizeMode(st: Stats): number {
  return st.isDirectory() ? 0o755 : 0o644 | (st.mode & 0o111);
}

async function checkSymlink(root: string, abs: string, rel: string): Promise<string> {
  let target: string;
  try {
    target = await readlink(abs);
  } catch (err) {
    throw unreadable(abs, err);
  }
  const escaped = () =>
    contextError(
      `symlink ${rel} -> ${target} points outside the build context ${root}`,
      'the engine cannot follow links out of the context: copy the target into the context, or exclude the link in .dockerignore',
      abs,
    );
  const lexical = resolve(dirname(abs), target);
  if (!isInside(root, lexical)) throw escaped();
  // Also resolve through intermediate links: an inside-looking path can still cross a link that leaves the context.
  try {
    if (!isInside(root, await realpath(abs))) throw escaped();
  } catch (err) {
    if (err instanceof CmeshError) throw err;
    // Dangling (ENOENT) or looping links stay lexical: Docker sends them as they are.
  }
  // An absolute target would point elsewhere inside the image (and bake this machine's path into the hash).
  return isAbsolute(target) ? relative(dirname(abs), lexical) || '.' : target;
}

export async function walkContext(opts: WalkOptions): Promise<WalkEntry[]> {
  const { root, ignore, forced, maxBytes } = opts;
  const out: WalkEntry[] = [];
  let bytes = 0;
  const forcedBelow = (rel: string) => [...forced].some((f) => f.startsWith(`${rel}/`));

  async function visit(dirAbs: string, prefix: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dirAbs);
    } catch (err) {
      throw unreadable(dirAbs, err);
    }
    for (const name of names) {
      const rel = prefix ? `${prefix}/${name}` : name;
      const abs = join(dirAbs, name);
      let st: Stats;
      try {
        st = await lstat(abs);
      } catch (err) {
        throw unreadable(abs, err);
      }
      const ignored = !forced.has(rel) && ignore.ignores(rel);
      if (st.isDirectory()) {
        // Without exceptions nothing below an excluded directory can come back (Docker prunes it the same way).
        if (ignored && !ignore.hasExceptions && !forcedBelow(rel)) continue;
        const entry: WalkEntry = { rel, abs, type: 'directory', mode: normalizeMode(st), size: 0 };
        const before = out.length;
        if (!ignored) out.push(entry);
        await visit(abs, rel);
        // An excluded directory with re-included content still gets its entry, so modes never depend on the engine.
        if (ignored && out.length > before) out.push(entry);
        continue;
      }
      if (ignored) continue;
      if (st.isFile()) {
        bytes += st.size;
        if (bytes > maxBytes) throw tooLarge(root, bytes, maxBytes);
        out.push({ rel, abs, type: 'file', mode: normalizeMode(st), size: st.size });
      } else if (st.isSymbolicLink()) {
        out.push({ rel, abs, type: 'symlink', mode: 0o777, size: 0, linkname: await checkSymlink(root, abs, rel) });
      } else if (st.isSocket()) {
        // Docker's archiver skips sockets too: they cannot be sent.
      } else {
        throw contextError(
          `${rel} in the build context is a special file (FIFO or device) cmesh will not send`,
          'exclude it in .dockerignore',
          abs,
        );
      }
    }
  }

  await visit(root, '');
  return out.sort((a, b) => byteOrder(a.rel, b.rel));
}

export function tooLarge(root: string, bytes: number, maxBytes: number): CmeshError {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new CmeshError(
    'CMESH_E_BUILD_CONTEXT',
    `build context ${root} is larger than ${mib(maxBytes)} (over ${mib(bytes)} so far)`,
    {
      hint: 'add a .dockerignore to exclude build outputs, dependencies and data (node_modules, .git, dist, …)',
      details: { path: root, bytes, maxBytes },
    },
  );
}
