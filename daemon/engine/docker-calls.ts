// The dockerode client plus the four ways the adapter calls it (plain, idempotent, maybe-gone, streaming), shared by
// the per-resource modules so each one translates engine failures the same way.

import Docker from 'dockerode';
import type { CmeshError } from '../api/errors.ts';
import { Labels } from '../api/labels.ts';
import type { EngineTarget } from './connect.ts';
import { openStream } from './engine-streams.ts';
import { type ErrorContext, engineFailure, isBenign, isNotFound, translateEngineError } from './translate-error.ts';

export type LabelQuery = Record<string, string | true>;

export function labelFilters(labels: LabelQuery): string[] {
  return Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}

export class DockerCalls {
  readonly docker: Docker;
  readonly target: EngineTarget;

  constructor(target: EngineTarget) {
    this.target = target;
    this.docker = new Docker(target.options);
  }

  error(err: unknown, ctx: ErrorContext): CmeshError {
    return translateEngineError(err, {
      ...ctx,
      host: this.target.description,
      ...(this.target.dockerHost ? { dockerHost: this.target.dockerHost } : {}),
    });
  }

  async call<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.error(err, ctx);
    }
  }

  /** Runs an operation whose "already done" statuses (304/404/409 per the table) count as success. */
  async idempotent(ctx: ErrorContext, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (isBenign(ctx.op, engineFailure(err))) return;
      throw this.error(err, ctx);
    }
  }

  /** undefined on 404, so callers can treat "gone" as data rather than failure. */
  async maybe<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (isNotFound(engineFailure(err))) return undefined;
      throw this.error(err, ctx);
    }
  }

  /** Opens a streaming GET; undefined when aborted first, or (logs) when the container is gone. */
  async open(ctx: ErrorContext, path: string, query: Record<string, unknown>, signal: AbortSignal | undefined) {
    try {
      return await openStream(this.docker, path, query, signal);
    } catch (err) {
      if (ctx.op === 'logs' && isNotFound(engineFailure(err))) return undefined;
      throw this.error(err, ctx);
    }
  }
}

/** An existing object is ours to reuse only when it belongs to the same project; anything else is a conflict. */
export function adoptOrConflict<T extends { labels: Record<string, string> }>(
  existing: T | undefined,
  wanted: Record<string, string>,
  conflict: () => CmeshError,
): T {
  if (existing && existing.labels[Labels.project] === wanted[Labels.project]) return existing;
  throw conflict();
}
