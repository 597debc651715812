// One event type: everything the daemon does is announced as a DaemonEvent; logs, metrics, TUI and CI subscribe.

import type { ContainerHealth, ContainerState, Endpoint } from './engine.ts';
import type { SerializedError } from './errors.ts';

interface Base {
  /** Epoch ms. */
  time: number;
  project: string;
}

export type DaemonEvent =
  | (Base & {
      type: 'container';
      action: 'created' | 'started' | 'stopped' | 'removed' | 'died' | 'restarting' | 'adopted';
      service: string;
      replica: number;
      container: string;
      name: string;
      exitCode?: number;
    })
  | (Base & {
      type: 'replica-state';
      service: string;
      replica: number;
      container: string;
      state: ContainerState;
      health: ContainerHealth;
      endpoints: Endpoint[];
    })
  | (Base & {
      type: 'health';
      service: string;
      replica: number;
      /** mesh = cmesh's own active/passive checks; engine = Docker's healthcheck; probe = cmesh's start probe. */
      source: 'mesh' | 'engine' | 'probe';
      healthy: boolean;
      reason?: string;
      /** source probe: how many healthcheck execs the start took (none run after the verdict). */
      probes?: number;
    })
  | (Base & { type: 'ejection'; service: string; replica: number; ejected: boolean; reason: string })
  | (Base & {
      type: 'restart-scheduled';
      service: string;
      replica: number;
      attempt: number;
      delayMs: number;
      reason: string;
    })
  | (Base & { type: 'reconcile'; phase: 'start' | 'done' | 'failed'; actions: number; durationMs?: number; error?: SerializedError })
  | (Base & { type: 'project'; action: 'up' | 'down' | 'scaled' | 'stopped' | 'started'; services?: Record<string, number> })
  | (Base & { type: 'build'; service: string; phase: 'start' | 'step' | 'done' | 'failed'; step?: number; total?: number; text?: string })
  | (Base & {
      type: 'pull';
      service: string;
      image: string;
      /** `progress` carries layer bytes so far (current/total, summed over the layers the engine reported). */
      phase: 'start' | 'progress' | 'done' | 'failed' | 'skipped';
      text?: string;
      current?: number;
      total?: number;
    })
  | (Base & {
      type: 'rollout';
      service: string;
      phase: 'start' | 'progress' | 'done' | 'rolled-back';
      text?: string;
      replica?: number;
      /** rolled-back: the failed container's last log lines. */
      logs?: string[];
    })
  | (Base & { type: 'proxy'; service: string; action: 'listening' | 'closed'; address: string; port: number })
  | (Base & { type: 'log'; service: string; replica: number; stream: 'stdout' | 'stderr'; text: string })
  | (Base & { type: 'error'; error: SerializedError })
  /** Something cmesh honours that this engine cannot do: the project runs without it (e.g. an old Engine API). */
  | (Base & { type: 'warning'; service?: string; key?: string; message: string });

export type DaemonEventType = DaemonEvent['type'];
