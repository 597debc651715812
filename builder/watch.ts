// Watches each service's build context and develop.watch paths and turns bursts of file events into one
// ChangeBatch per service, saying what to do (sync, restart, rebuild). Everything closes on abort (STYLE habit 8).

import type { Stats } from 'node:fs';
import { type FSWatcher, watch } from 'chokidar';
import type { LifecycleHook, ProjectSpec } from '../daemon/api/project.ts';
import { initialSyncFiles } from './initial-sync.ts';
import {
  type ChangedFile,
  type CompiledRule,
  combineActions,
  compileRules,
  containerPathFor,
  reloadIgnore,
  ruleMatches,
  ruleMayMatch,
  type WatchAction,
} from './watch-rules.ts';

export type { ChangedFile, WatchAction } from './watch-rules.ts';


export interface ChangeBatch {
  service: string;
  action: WatchAction;
  files: ChangedFile[];
  /** sync+exec: the rule's command, run in every replica after the sync. */
  exec?: LifecycleHook;
  /** The batch is a rule's initial_sync at watch start, not a change. */
  initial?: boolean;
}

export interface WatchProjectOptions {
  project: ProjectSpec;
  onChange: (batch: ChangeBatch) => void | Promise<void>;
  signal: AbortSignal;
  /** Quiet time that closes a batch (default {@link DEFAULT_DEBOUNCE_MS}). */
  debounceMs?: number;
  /**
   * A batch is flushed at the latest this long after its first event even if events keep coming (default
   * {@link DEFAULT_MAX_WAIT_MS}, or 2 × debounceMs when only that is given). Events during a running onChange collect
   * into the next batch, so a long burst (git checkout, npm install) costs one batch per onChange, not one per event.
   */
  maxWaitMs?: number;
  /** onChange failures and watcher errors; default: ignored (the next change tries again). */
  onError?: (error: unknown, service?: string) => void;
}

export interface ProjectWatcher {
  /** Absolute paths given to the watcher. */
  readonly paths: readonly string[];
  /** Resolves once the watcher is closed and no onChange is running. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  files: Map<string, ChangedFile>;
  action: WatchAction | undefined;
  exec: LifecycleHook | undefined;
  timer: NodeJS.Timeout | undefined;
  firstAt: number;
  running: Promise<void> | undefined;
}

/** add→change stays add; add→unlink is unlink (rm -f is harmless); unlink→add is a change. */
function mergeKind(prev: ChangedFile['kind'] | undefined, next: ChangedFile['kind']): ChangedFile['kind'] {
  if (prev === 'add' && next === 'change') return 'add';
  if (prev === 'unlink' && next === 'add') return 'change';
  return next;
}

/**
 * Issue 6 asks for bursts coalesced in ~200 ms. An editor's save is a burst of a few events within a few ms (write,
 * chmod, rename of a swap file), so 100 ms of quiet closes it with room to spare, and every rebuild or sync starts
 * 100 ms sooner than with a 200 ms quiet window; the 200 ms cap bounds how long any burst is held.
 */
export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_MAX_WAIT_MS = 200;

/** Resolves when chokidar has scanned every path (events before that are the initial scan, which we skip). */
export async function watchProject(options: WatchProjectOptions): Promise<ProjectWatcher> {
  const { onChange, signal } = options;
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const maxWaitMs = options.maxWaitMs ?? (options.debounceMs === undefined ? DEFAULT_MAX_WAIT_MS : debounceMs * 2);
  const onError = options.onError ?? (() => {});
  const rules = await compileRules(Object.values(options.project.services));
  const paths = [...new Set(rules.map((r) => r.path))].sort();
  const pending = new Map<string, Pending>();
  let stopped = false;

  const flush = (service: string) => {
    const p = pending.get(service);
    if (!p || stopped) return;
    p.timer = undefined;
    // One onChange per service at a time: events meanwhile collect into the next batch.
    if (p.running || p.files.size === 0 || p.action === undefined) return;
    const batch: ChangeBatch = { service, action: p.action, files: [...p.files.values()], ...(p.action === 'sync+exec' && p.exec ? { exec: p.exec } : {}) };
    p.files = new Map();
    p.action = undefined;
    p.exec = undefined;
    p.running = (async () => {
      try {
        await onChange(batch);
      } catch (err) {
        onError(err, service);
      }
    })().finally(() => {
      p.running = undefined;
      if (p.files.size > 0) schedule(service, p);
    });
  };

  const schedule = (service: string, p: Pending) => {
    if (stopped) return;
    if (p.timer) clearTimeout(p.timer);
    const waited = Date.now() - p.firstAt;
    p.timer = setTimeout(() => flush(service), Math.max(0, Math.min(debounceMs, maxWaitMs - waited)));
  };

  const onEvent = (kind: ChangedFile['kind'], path: string) => {
    if (stopped) return;
    if (path.endsWith('.dockerignore')) void reloadIgnore(rules, path);
    const byService = new Map<string, CompiledRule[]>();
    for (const r of rules) if (ruleMatches(r, path)) byService.set(r.service, [...(byService.get(r.service) ?? []), r]);
    for (const [service, matched] of byService) {
      let p = pending.get(service);
      if (!p) {
        p = { files: new Map(), action: undefined, exec: undefined, timer: undefined, firstAt: 0, running: undefined };
        pending.set(service, p);
      }
      if (p.files.size === 0) p.firstAt = Date.now();
      const containerPath = matched.map((r) => containerPathFor(r, path)).find((c) => c !== undefined);
      const prev = p.files.get(path);
      p.files.set(path, { path, kind: mergeKind(prev?.kind, kind), ...(containerPath ? { containerPath } : {}) });
      for (const r of matched) {
        p.action = combineActions(p.action, r.action);
        if (r.exec) p.exec = r.exec;
      }
      schedule(service, p);
    }
  };

  // chokidar never emits 'ready' for an empty path list, so a project with nothing to watch gets no watcher.
  const watcher: FSWatcher | undefined =
    paths.length === 0
      ? undefined
      : watch(paths, {
          ignoreInitial: true,
          // Pruning here keeps chokidar out of node_modules and ignored trees entirely, not just their events.
          ignored: (path: string, stats?: Stats) => !rules.some((r) => ruleMayMatch(r, path, stats?.isFile() ?? false)),
        });
  watcher?.on('add', (p) => onEvent('add', p));
  watcher?.on('change', (p) => onEvent('change', p));
  watcher?.on('unlink', (p) => onEvent('unlink', p));
  // A removed directory is one event; sync deletes it with `rm -rf` in the container.
  watcher?.on('unlinkDir', (p) => onEvent('unlink', p));
  watcher?.on('error', (err) => onError(err));

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopped = true;
      for (const p of pending.values()) if (p.timer) clearTimeout(p.timer);
      await watcher?.close();
      await Promise.all([...pending.values()].map((p) => p.running));
      resolveClosed();
    })();
    return closing;
  };
  signal.addEventListener('abort', () => void close(), { once: true });
  if (signal.aborted) void close();

  await new Promise<void>((resolve) => {
    if (stopped || !watcher) return resolve();
    watcher.once('ready', () => resolve());
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // develop.watch initial_sync: each such rule's whole tree goes into the replicas once, before any change.
  for (const rule of rules.filter((r) => r.initialSync)) {
    if (stopped) break;
    try {
      const files = await initialSyncFiles(rule);
      if (files.length > 0) await onChange({ service: rule.service, action: rule.action, files, initial: true, ...(rule.exec ? { exec: rule.exec } : {}) });
    } catch (err) {
      onError(err, rule.service);
    }
  }
  return { paths, closed, close };
}
