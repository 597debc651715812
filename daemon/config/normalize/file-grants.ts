// Top-level `secrets:` / `configs:` (file, environment or content sources) and the services' grants of them (short
// name or long form with target, uid, gid, mode). Sources are resolved here, where the user's environment is known:
// the daemon only writes bytes to files. External sources need Swarm and are refused with a clear error.

import type { FileGrant, FileSource } from '../../api/project.ts';
import { get, setOwn, type YMap, type YNode, type YScalar } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { resolveHostPath } from './paths.ts';
import { checkKeys, type Ctx, readBool, readInt, readMap, readString, typeError } from './read.ts';

export type FileKind = 'secret' | 'config';

const SOURCE_KEYS: Record<FileKind, ReadonlySet<string>> = {
  secret: new Set(['file', 'environment', 'external', 'name', 'labels', 'driver', 'driver_opts', 'template_driver']),
  config: new Set(['file', 'environment', 'content', 'external', 'name', 'labels', 'template_driver']),
};
const GRANT_KEYS = new Set(['source', 'target', 'uid', 'gid', 'mode']);

export function readFileSources(ctx: Ctx, node: YNode | undefined, kind: FileKind): Record<string, FileSource> | undefined {
  if (node === undefined) return undefined;
  const section = `${kind}s`;
  const map = readMap(ctx, node, [section]);
  if (map === undefined) return undefined;
  const out: Record<string, FileSource> = {};
  for (const e of map.entries.values()) {
    const p = [section, e.key];
    const m = readMap(ctx, e.value, p);
    if (m === undefined) {
      ctx.issues.error(e.keyPos, p, `${kind} "${e.key}" has no source`, `give it \`file:\`, \`environment:\`${kind === 'config' ? ' or `content:`' : ''}`);
      continue;
    }
    checkKeys(ctx, m, p, { supported: SOURCE_KEYS[kind] });
    const src = readSource(ctx, m, p, kind, e.key);
    if (src !== undefined) setOwn(out, e.key, src);
  }
  return out;
}

function readSource(ctx: Ctx, m: YMap, path: PathSeg[], kind: FileKind, name: string): FileSource | undefined {
  const external = get(m, 'external');
  if (external !== undefined && readBool(ctx, external, [...path, 'external']) === true) {
    ctx.issues.error(m.pos, [...path, 'external'], `external ${kind}s live in a Swarm cluster, not on a local engine`, `use \`file:\` or \`environment:\` for ${kind} "${name}"`);
    return undefined;
  }
  const given = (['file', 'environment', 'content'] as const).filter((k) => get(m, k) !== undefined && (k !== 'content' || kind === 'config'));
  if (given.length !== 1) {
    const what = kind === 'config' ? '`file:`, `environment:` or `content:`' : '`file:` or `environment:`';
    ctx.issues.error(m.pos, path, `${kind} "${name}" needs exactly one of ${what}${given.length > 1 ? ` (has ${given.join(' and ')})` : ''}`, 'pick the one source of its bytes');
    return undefined;
  }
  const key = given[0]!;
  const node = get(m, key)!;
  const value = readString(ctx, node, [...path, key]);
  if (value === undefined) return undefined;
  if (key === 'file') return { name, kind, file: resolveHostPath(value, ctx.projectDir, ctx.homeDir) };
  if (key === 'content') return { name, kind, content: value };
  const content = ctx.lookup(value);
  if (content === undefined) {
    ctx.issues.error(node.pos, [...path, key], `${kind} "${name}" reads the variable ${value}, which is not set`, `set ${value} in the environment or in .env`);
    return undefined;
  }
  return { name, kind, environment: value, content };
}

/** A service's `secrets:` / `configs:` list: `- name` or `- { source, target, uid, gid, mode }`. */
export function readFileGrants(ctx: Ctx, node: YNode, path: PathSeg[], kind: FileKind, refs: { name: string; node: YNode; path: PathSeg[] }[]): FileGrant[] {
  if (node.kind !== 'seq') {
    typeError(ctx, node, path, `a list of ${kind} names or { source, target }`);
    return [];
  }
  const out: FileGrant[] = [];
  node.items.forEach((item, i) => {
    const p = [...path, i];
    let source: string | undefined;
    const grant: Partial<FileGrant> = {};
    if (item.kind === 'map') {
      checkKeys(ctx, item, p, { supported: GRANT_KEYS });
      const s = get(item, 'source');
      source = s === undefined ? undefined : readString(ctx, s, [...p, 'source']);
      if (s === undefined) ctx.issues.error(item.pos, p, `a ${kind} grant needs \`source\``, `the name of a top-level ${kind}`);
      const t = get(item, 'target');
      const target = t === undefined ? undefined : readString(ctx, t, [...p, 'target']);
      if (target !== undefined) grant.target = target;
      for (const id of ['uid', 'gid'] as const) {
        const n = get(item, id);
        const v = n === undefined ? undefined : readInt(ctx, n.kind === 'scalar' && typeof n.value === 'string' ? { ...n, interpolated: true } : n, [...p, id], { min: 0, hint: 'a numeric id' });
        if (v !== undefined) grant[id] = v;
      }
      const mode = get(item, 'mode');
      if (mode !== undefined) {
        const v = readMode(ctx, mode, [...p, 'mode']);
        if (v !== undefined) grant.mode = v;
      }
    } else {
      source = readString(ctx, item, p);
    }
    if (source === undefined) return;
    refs.push({ name: source, node: item, path: p });
    out.push({ ...grant, source, target: grantTarget(kind, source, grant.target) });
  });
  return out;
}

/** Compose: a secret's relative target lands under /run/secrets; a config's default target is /<name>. */
function grantTarget(kind: FileKind, source: string, target: string | undefined): string {
  if (target === undefined) return kind === 'secret' ? `/run/secrets/${source}` : `/${source}`;
  if (target.startsWith('/')) return target;
  return kind === 'secret' ? `/run/secrets/${target}` : `/${target}`;
}

/**
 * YAML 1.2 reads `mode: 0440` as the decimal 440, so a number whose digits are all octal is taken as octal digits
 * (0440, 440 and "0440" all mean 0o440, which is what people write them for); `0o400` arrives as 256 and is kept as
 * it is, whatever its decimal digits look like.
 */
export function readMode(ctx: Ctx, node: YNode, path: PathSeg[]): number | undefined {
  const hint = 'write it as 0440 or "0440"';
  const readAsIs = (n: YNode): n is YScalar & { value: number } =>
    n.kind === 'scalar' && typeof n.value === 'number' && Number.isInteger(n.value) && (n.nonDecimal === true || !/^[0-7]+$/.test(String(n.value)));
  if (readAsIs(node)) {
    if (node.value >= 0 && node.value <= 0o7777) return node.value;
    return typeError(ctx, node, path, 'an octal file mode like 0440', hint);
  }
  const text = node.kind === 'scalar' && node.value !== null ? String(node.value) : '';
  const m = /^(?:0o?)?([0-7]{1,4})$/.exec(text);
  if (!m) return typeError(ctx, node, path, 'an octal file mode like 0440', hint);
  return Number.parseInt(m[1]!, 8);
}
