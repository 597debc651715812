// Which watch rule a changed path belongs to: develop.watch rules (or the rebuild-on-context default), filtered by
// .git/node_modules, the rule's `ignore` and the build context's .dockerignore — the same view `docker build` has.

import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { LifecycleHook, ServiceSpec, WatchRule } from '../daemon/api/project.ts';
import { type DockerIgnore, loadDockerignore, NO_IGNORE, parseDockerignore } from './dockerignore.ts';

export type WatchAction = WatchRule['action'];

/** Never worth watching: huge, machine-generated, and not what the user edits. */
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);

export interface BuildContextView {
  dir: string;
  ignore: DockerIgnore;
  /** Sent even when ignored (Docker's rule), so changes to them always count. */
  always: Set<string>;
}

export interface ChangedFile {
  /** Absolute host path. */
  path: string;
  /** Where a sync puts it; only for sync-type rules with a target. */
  containerPath?: string;
  kind: 'add' | 'change' | 'unlink';
}

export interface CompiledRule {
  service: string;
  action: WatchAction;
  path: string;
  target?: string;
  ignore: DockerIgnore;
  /** develop.watch `include`: only matching paths count (`ignores()` here means "is included"). */
  include?: DockerIgnore;
  initialSync?: boolean;
  exec?: LifecycleHook;
  context?: BuildContextView;
}

/** Path of `p` below `root` with `/` separators, or undefined when outside; '' for root itself. */
export function below(root: string, p: string): string | undefined {
  const rel = relative(root, p);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

export async function compileRules(services: ServiceSpec[]): Promise<CompiledRule[]> {
  const out: CompiledRule[] = [];
  for (const svc of services) {
    let context: BuildContextView | undefined;
    if (svc.build) {
      const dir = resolve(svc.build.context);
      context = {
        dir,
        ignore: await loadDockerignore(dir),
        always: new Set([resolve(dir, svc.build.dockerfile), join(dir, '.dockerignore')]),
      };
    }
    const ctx = context ? { context } : {};
    if (svc.watch.length > 0) {
      for (const r of svc.watch) {
        out.push({
          service: svc.name,
          action: r.action,
          path: resolve(r.path),
          ...(r.target ? { target: r.target } : {}),
          ignore: r.ignore.length > 0 ? parseDockerignore(r.ignore.join('\n')) : NO_IGNORE,
          ...(r.include?.length ? { include: parseDockerignore(r.include.join('\n')) } : {}),
          ...(r.initialSync ? { initialSync: true } : {}),
          ...(r.exec ? { exec: r.exec } : {}),
          ...ctx,
        });
      }
    } else if (context && svc.build) {
      // No develop section: any change the build would see means a rebuild, including a Dockerfile outside it.
      out.push({ service: svc.name, action: 'rebuild', path: context.dir, ignore: NO_IGNORE, context });
      const dockerfile = resolve(context.dir, svc.build.dockerfile);
      if (below(context.dir, dockerfile) === undefined) {
        out.push({ service: svc.name, action: 'rebuild', path: dockerfile, ignore: NO_IGNORE, context });
      }
    }
  }
  return out;
}

/** Re-reads a context's .dockerignore after it changed (the rules are shared by reference). */
export async function reloadIgnore(rules: CompiledRule[], dockerignorePath: string): Promise<void> {
  const seen = new Set<BuildContextView>();
  for (const r of rules) {
    if (!r.context || seen.has(r.context) || join(r.context.dir, '.dockerignore') !== dockerignorePath) continue;
    seen.add(r.context);
    r.context.ignore = await loadDockerignore(r.context.dir).catch(() => r.context!.ignore);
  }
}

function skippedComponent(rel: string): boolean {
  return rel.split('/').some((c) => ALWAYS_SKIPPED.has(c));
}

/** Does the change at `abs` (a file, or a removed directory) trigger this rule? */
export function ruleMatches(rule: CompiledRule, abs: string): boolean {
  const rel = below(rule.path, abs);
  if (rel === undefined) return false;
  if (rule.context?.always.has(abs)) return true;
  if (rel !== '' && (skippedComponent(rel) || rule.ignore.ignores(rel))) return false;
  if (rule.include && rel !== '' && !rule.include.ignores(rel)) return false;
  if (rule.context) {
    const relc = below(rule.context.dir, abs);
    if (relc !== undefined && relc !== '' && rule.context.ignore.ignores(relc)) return false;
  }
  return true;
}

/**
 * For chokidar's `ignored`: can anything at or below `abs` match the rule? Conservative for directories (an
 * exception pattern may re-include their content); exact for files. Pruning matters: node_modules alone can hold
 * enough files to exhaust inotify watches.
 */
export function ruleMayMatch(rule: CompiledRule, abs: string, isFile: boolean): boolean {
  if (below(abs, rule.path) !== undefined) return true; // abs is the rule path or one of its ancestors
  if (isFile) return ruleMatches(rule, abs);
  const rel = below(rule.path, abs);
  if (rel === undefined || skippedComponent(rel)) return false;
  const alwaysBelow = [...(rule.context?.always ?? [])].some((p) => below(abs, p) !== undefined);
  if (alwaysBelow) return true;
  if (rule.ignore.ignores(rel) && !rule.ignore.hasExceptions) return false;
  const relc = rule.context ? below(rule.context.dir, abs) : undefined;
  if (relc && rule.context!.ignore.ignores(relc) && !rule.context!.ignore.hasExceptions) return false;
  return true;
}

/** Container path for a file under a sync-type rule with a target. */
export function containerPathFor(rule: CompiledRule, abs: string): string | undefined {
  if (!rule.target || rule.action === 'rebuild' || rule.action === 'restart') return undefined;
  const rel = below(rule.path, abs);
  return rel === undefined ? undefined : rel === '' ? rule.target : `${rule.target.replace(/\/+$/, '')}/${rel}`;
}

/** Merges the actions a batch needs: rebuild wins; sync and restart together become sync+restart. */
export function combineActions(a: WatchAction | undefined, b: WatchAction): WatchAction {
  if (a === undefined || a === b) return b;
  if (a === 'rebuild' || b === 'rebuild') return 'rebuild';
  const restart = [a, b].some((x) => x === 'restart' || x === 'sync+restart');
  const sync = [a, b].some((x) => x.startsWith('sync'));
  if (restart && sync) return 'sync+restart';
  if (restart) return 'restart';
  return [a, b].includes('sync+exec') ? 'sync+exec' : 'sync';
}
