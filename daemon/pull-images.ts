// Pulls service images through the engine port: each distinct image once, a bounded number at a time, with
// credentials from the user's Docker config, `pull` DaemonEvents per service, and errors that name the service.

import type { ContainerEngine, PullProgress } from './api/engine.ts';
import { CmeshError, isCmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import type { ServiceSpec } from './api/project.ts';
import type { PullTimes } from './pull-state.ts';
import { type AuthLookupOptions, resolveRegistryAuth } from './registry-auth.ts';

/** Registries serve layers in parallel anyway; four images at once keeps progress readable and sockets few. */
export const DEFAULT_PULL_CONCURRENCY = 4;
/** Progress events per service at most this often (a layer download sends a line per 512 KB). */
const PROGRESS_EVERY_MS = 250;

export interface PullerOptions {
  engine: ContainerEngine;
  project: string;
  emit: (event: DaemonEvent) => void;
  times: PullTimes;
  auth?: AuthLookupOptions;
  concurrency?: number;
  stallMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

/** One `up` or `pull` worth of pulls: same image requested twice = one pull, awaited by both services. */
export class ImagePuller {
  readonly #o: PullerOptions;
  readonly #inflight = new Map<string, { owner: string; done: Promise<void> }>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(options: PullerOptions) {
    this.#o = options;
  }

  /** Pulls `service.image`; rejects with a CmeshError naming the service and the image. */
  async pull(service: ServiceSpec & { image: string }): Promise<void> {
    const image = service.image;
    const shared = this.#inflight.get(image);
    if (shared) {
      await shared.done.catch((err: unknown) => {
        throw withService(err, service.name);
      });
      this.#event(service.name, image, 'done', { text: `pulled with service ${shared.owner}` });
      return;
    }
    const done = this.#limited(() => this.#pull(service, image));
    this.#inflight.set(image, { owner: service.name, done });
    return done;
  }

  async #limited<T>(fn: () => Promise<T>): Promise<T> {
    const limit = Math.max(1, this.#o.concurrency ?? DEFAULT_PULL_CONCURRENCY);
    // A finishing pull hands its slot straight to the next waiter, so a newcomer can never slip in between.
    if (this.#running >= limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  async #pull(service: ServiceSpec & { image: string }, image: string): Promise<void> {
    const started = Date.now();
    this.#event(service.name, image, 'start', { text: `pulling ${image}${service.platform ? ` (${service.platform})` : ''}` });
    const layers = new LayerTally();
    let lastEmit = 0;
    try {
      const auth = await resolveRegistryAuth(image, this.#o.auth);
      const progress = this.#o.engine.pullImage({
        ref: image,
        ...(service.platform ? { platform: service.platform } : {}),
        ...(auth ? { auth } : {}),
        ...(this.#o.stallMs === undefined ? {} : { stallMs: this.#o.stallMs }),
        ...(this.#o.signal ? { signal: this.#o.signal } : {}),
      });
      for await (const p of progress) {
        layers.add(p);
        const now = Date.now();
        if (p.kind === 'layer' && now - lastEmit >= PROGRESS_EVERY_MS) {
          lastEmit = now;
          this.#event(service.name, image, 'progress', { text: layers.text(), ...layers.bytes() });
        }
      }
      if (this.#o.signal?.aborted) throw this.#o.signal.reason ?? new Error('pull aborted');
      await this.#o.times.set(image, (this.#o.now ?? Date.now)());
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      this.#event(service.name, image, 'done', { text: `pulled ${image} in ${secs}s${layers.count > 0 ? ` (${layers.count} layers)` : ''}` });
    } catch (err) {
      const wrapped = withService(err, service.name);
      this.#event(service.name, image, 'failed', { text: wrapped instanceof Error ? wrapped.message : String(wrapped) });
      throw wrapped;
    }
  }

  #event(service: string, image: string, phase: 'start' | 'progress' | 'done' | 'failed' | 'skipped', extra: { text?: string; current?: number; total?: number }): void {
    this.#o.emit({ time: Date.now(), project: this.#o.project, type: 'pull', service, image, phase, ...extra });
  }

  /** A `skipped` event (policy never/build, present under `missing`), so `cmesh pull` can say why nothing happened. */
  skipped(service: string, image: string, why: string): void {
    this.#event(service, image, 'skipped', { text: why });
  }
}

/** Sums the layers the engine reported: bytes downloaded of the known totals, layers complete. */
class LayerTally {
  readonly #layers = new Map<string, { current: number; total: number; complete: boolean }>();

  get count(): number {
    return this.#layers.size;
  }

  add(p: PullProgress): void {
    if (p.kind !== 'layer') return;
    const l = this.#layers.get(p.id) ?? { current: 0, total: 0, complete: false };
    if (p.status === 'Downloading' && p.total) {
      l.current = p.current ?? l.current;
      l.total = p.total;
    }
    if (/^(Pull complete|Already exists|Download complete)$/.test(p.status)) {
      l.complete = p.status !== 'Download complete' || l.complete;
      if (l.total) l.current = l.total;
    }
    this.#layers.set(p.id, l);
  }

  bytes(): { current: number; total: number } {
    let current = 0;
    let total = 0;
    for (const l of this.#layers.values()) {
      current += l.current;
      total += l.total;
    }
    return { current, total };
  }

  text(): string {
    const complete = [...this.#layers.values()].filter((l) => l.complete).length;
    const { current, total } = this.bytes();
    return `${complete}/${this.#layers.size} layers${total > 0 ? `, ${mb(current)}/${mb(total)} MB` : ''}`;
  }
}

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** Adds the service to a CmeshError's message and details (the builder's habit); anything else is a bug, rethrown as is. */
export function withService(err: unknown, service: string): unknown {
  if (!isCmeshError(err)) return err;
  if (err.details.service === service) return err;
  return new CmeshError(err.code, `service "${service}": ${err.message}`, {
    ...(err.hint ? { hint: err.hint } : {}),
    issues: err.issues,
    details: { ...err.details, service },
    cause: err,
  });
}
