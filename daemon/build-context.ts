// A simple deterministic build-context tar for `up` (sorted, fixed mtime/modes, .git/node_modules skipped, basic
// .dockerignore). The full builder (cache keys, watch) lives in builder/; this only has to be correct and stable.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { CmeshError } from './api/errors.ts';

const ALWAYS_SKIP = new Set(['.git', 'node_modules']);
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

interface IgnoreRule {
  negate: boolean;
  re: RegExp;
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        out += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    if (line === '') continue;
    rules.push({ negate, re: globToRegExp(line) });
  }
  return rules;
}

/** Docker semantics: the last matching rule wins, and a rule matching a parent directory covers its contents. */
export function isIgnored(rules: readonly IgnoreRule[], relPath: string): boolean {
  const parts = relPath.split('/');
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join('/'))) {
        ignored = !rule.negate;
        break;
      }
    }
  }
  return ignored;
}

interface Entry {
  rel: string;
  abs: string;
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
}

async function walk(root: string, rules: IgnoreRule[], keep: Set<string>): Promise<Entry[]> {
  const out: Entry[] = [];
  const canPrune = !rules.some((r) => r.negate);
  async function visit(dir: string, prefix: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (ALWAYS_SKIP.has(name)) continue;
      const rel = prefix ? `${prefix}/${name}` : name;
      const abs = join(dir, name);
      const st = await lstat(abs);
      const ignored = isIgnored(rules, rel) && !keep.has(rel);
      if (st.isDirectory()) {
        // Without negations nothing below an ignored directory can come back, so skip reading it.
        if (ignored && canPrune) continue;
        if (!ignored) out.push({ rel, abs, kind: 'directory', mode: 0o755, size: 0 });
        await visit(abs, rel);
      } else if (!ignored && (st.isFile() || st.isSymbolicLink())) {
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        out.push({ rel, abs, kind: st.isFile() ? 'file' : 'symlink', mode, size: st.size });
      }
    }
  }
  await visit(root, '');
  return out;
}

/**
 * Packs `contextDir` into a tar stream. Paths sort byte-wise, owners are 0, mtimes fixed and modes normalized so the
 * same sources always give the same bytes (and the engine's layer cache hits). The Dockerfile is always included.
 */
export async function packContext(contextDir: string, dockerfile: string): Promise<Readable> {
  const ignoreText = await readFile(join(contextDir, '.dockerignore'), 'utf8').catch(() => '');
  const keep = new Set([dockerfile.replace(/^\.\//, ''), '.dockerignore']);
  let entries: Entry[];
  try {
    entries = await walk(contextDir, parseDockerignore(ignoreText), keep);
  } catch (err) {
    throw new CmeshError('CMESH_E_BUILD_CONTEXT', `cannot read build context ${contextDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!entries.some((e) => e.rel === dockerfile.replace(/^\.\//, '') && e.kind === 'file')) {
    throw new CmeshError('CMESH_E_BUILD_CONTEXT', `Dockerfile "${dockerfile}" not found in build context ${contextDir}`);
  }
  const tar = pack();
  const base = { uid: 0, gid: 0, mtime: FIXED_MTIME, uname: '', gname: '' };
  void (async () => {
    for (const e of entries) {
      if (e.kind === 'directory') {
        tar.entry({ ...base, name: e.rel + '/', type: 'directory', mode: e.mode });
      } else if (e.kind === 'symlink') {
        tar.entry({ ...base, name: e.rel, type: 'symlink', mode: 0o777, linkname: await readlink(e.abs) });
      } else {
        // Streaming each file keeps memory flat and lets the engine's read pace the walk.
        const sink = tar.entry({ ...base, name: e.rel, type: 'file', mode: e.mode, size: e.size });
        await pipeline(createReadStream(e.abs), sink);
      }
    }
    tar.finalize();
  })().catch((err: unknown) => tar.destroy(err as Error));
  // tar-stream speaks streamx; the engine port takes a node Readable.
  return Readable.from(tar);
}
