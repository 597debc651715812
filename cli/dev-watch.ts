// The CLI side of `cmesh watch` / `up --watch`: watches the compose project's sources locally and turns each batch into
// a daemon call — rebuild → `up` with build (a start-first rollout), sync → the sync route — one result line per batch.

import type { OperationFrame, SyncExec, SyncRequest, SyncResult, UpRequest } from '../daemon/api/control.ts';
import type { LifecycleHook, ProjectSpec } from '../daemon/api/project.ts';
import type { ChangeBatch, ProjectWatcher } from '../builder/watch.ts';
import type { DaemonClient } from './daemon-client.ts';
import { describeEvent } from './event-text.ts';
import type { Colors, OutStream } from './output.ts';
import { renderError } from './render-error.ts';

export interface DevWatchOptions {
  client: DaemonClient;
  project: ProjectSpec;
  /** The services `up` was asked for (empty = all), so a rebuild never widens the selection. */
  services: string[];
  out: OutStream;
  c: Colors;
  signal: AbortSignal;
  debounceMs?: number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;

/** Build failures, rollout steps and errors are worth a line; build steps and container churn are not. */
function interesting(frame: OperationFrame): boolean {
  if (frame.kind !== 'event') return false;
  const e = frame.event;
  return (e.type === 'build' && e.phase === 'failed') || e.type === 'rollout' || e.type === 'error';
}

/** develop.watch `exec` in the control API's words. */
function syncExec(hook: LifecycleHook): SyncExec {
  return {
    command: hook.command,
    ...(hook.user === undefined ? {} : { user: hook.user }),
    ...(hook.workingDir === undefined ? {} : { workingDir: hook.workingDir }),
    ...(Object.keys(hook.environment).length === 0 ? {} : { env: hook.environment }),
    ...(hook.privileged === undefined ? {} : { privileged: hook.privileged }),
  };
}

async function handle(o: DevWatchOptions, batch: ChangeBatch): Promise<string> {
  const base = `/v1/projects/${encodeURIComponent(o.project.name)}`;
  const started = Date.now();
  const files = batch.files.length === 1 ? batch.files[0]!.path : `${batch.files.length} files`;
  if (batch.action === 'rebuild') {
    const body: UpRequest = { project: o.project, services: o.services, build: 'auto', wait: false };
    await o.client.operation(`${base}/up`, body, (frame) => {
      if (!interesting(frame) || frame.kind !== 'event') return;
      const line = describeEvent(frame.event, o.c);
      if (line) o.out.write(`  ${line}\n`);
    });
    return `${o.c.green('✔')} ${batch.service}: rebuilt and rolled out in ${seconds(Date.now() - started)} (${files})`;
  }
  if (batch.action === 'restart') {
    await o.client.request('POST', `${base}/restart`, { services: [batch.service] });
    return `${o.c.green('✔')} ${batch.service}: restarted in ${seconds(Date.now() - started)} (${files})`;
  }
  // The initial sync of a sync+restart rule only fills the replicas: they are starting anyway.
  const restart = batch.action === 'sync+restart' && !batch.initial;
  const request: SyncRequest = { service: batch.service, files: batch.files, restart, ...(batch.exec ? { exec: syncExec(batch.exec) } : {}) };
  const r = await o.client.request<SyncResult>('POST', `${base}/sync`, request);
  const what = `${r.copied.length} copied, ${r.deleted.length} deleted into ${r.containers} replica(s)${restart ? `, ${r.restarted} restarted` : ''}${r.executed === undefined ? '' : `, exec ran in ${r.executed}`}`;
  return `${o.c.green('✔')} ${batch.service}: ${batch.initial ? 'initial sync: ' : 'synced '}${what} in ${seconds(Date.now() - started)}`;
}

/** Starts watching; resolves with the watcher once the initial scan is done (close it or abort the signal to stop). */
export async function startDevWatch(o: DevWatchOptions): Promise<ProjectWatcher> {
  const fail = (err: unknown, service?: string): void => {
    const { text } = renderError(err, { color: false });
    o.out.write(`${o.c.red('✘')} ${service ?? 'watch'}: ${text.trimEnd().replace(/\n/g, '\n    ')}\n`);
    o.out.write(`  ${o.c.dim('the running version keeps serving; save again to retry')}\n`);
  };
  // chokidar loads only for `up --watch` / `watch`, not on every CLI start.
  const { watchProject } = await import('../builder/watch.ts');
  const watcher = await watchProject({
    project: o.project,
    signal: o.signal,
    ...(o.debounceMs === undefined ? {} : { debounceMs: o.debounceMs }),
    onChange: async (batch) => {
      o.out.write(`${o.c.dim('→')} ${batch.service}: ${batch.action} (${batch.files.map((f) => f.path).slice(0, 3).join(', ')}${batch.files.length > 3 ? ', …' : ''})\n`);
      try {
        o.out.write(`${await handle(o, batch)}\n`);
      } catch (err) {
        if (!o.signal.aborted) fail(err, batch.service);
      }
    },
    onError: (err, service) => fail(err, service),
  });
  const services = [...new Set(Object.values(o.project.services).filter((s) => s.build || s.watch.length > 0).map((s) => s.name))];
  o.out.write(`Watching ${watcher.paths.length} path(s) of ${services.join(', ') || 'no service'}; Ctrl-C to stop\n`);
  return watcher;
}
