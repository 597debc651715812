// The registry behind FakeEngine.pullImage: tests put images in it, protect it with credentials or take it offline, and
// it answers with the engine's own messages, which go through the same translation as the real adapter's.

import type { PullOptions, PullProgress } from '../api/engine.ts';
import { withLatestTag } from '../api/engine-images.ts';
import { pullFailure, registryHost } from './pull-progress.ts';

export interface FakePull {
  ref: string;
  platform?: string;
  /** The serveraddress of the credentials sent, never the secret. */
  authFor?: string;
}

export class FakeRegistry {
  readonly pulls: FakePull[] = [];
  readonly #images = new Map<string, { layers: number; platforms?: string[] }>();
  readonly #credentials = new Map<string, { username: string; password: string }>();
  readonly #offline = new Set<string>();
  readonly #hanging = new Set<string>();

  /** Makes `ref` pullable (tag defaults to latest); `platforms` limits which `platform` values it serves. */
  add(ref: string, opts: { layers?: number; platforms?: string[] } = {}): void {
    this.#images.set(withLatestTag(ref), { layers: opts.layers ?? 2, ...(opts.platforms ? { platforms: opts.platforms } : {}) });
  }

  remove(ref: string): void {
    this.#images.delete(withLatestTag(ref));
  }

  /** The registry at `host` (as in the reference: `docker.io`, `127.0.0.1:5000`) wants these credentials. */
  requireAuth(host: string, username: string, password: string): void {
    this.#credentials.set(host, { username, password });
  }

  /** `host` refuses connections (as a stopped registry does). */
  setOffline(host: string, offline = true): void {
    if (offline) this.#offline.add(host);
    else this.#offline.delete(host);
  }

  /** `host` never answers (a black-holed address): the pull ends only by its stall bound or its signal. */
  setHanging(host: string, hanging = true): void {
    if (hanging) this.#hanging.add(host);
    else this.#hanging.delete(host);
  }

  async *pull(options: PullOptions, store: (ref: string) => void): AsyncGenerator<PullProgress> {
    const ref = withLatestTag(options.ref);
    const host = registryHost(options.ref);
    this.pulls.push({
      ref,
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.auth ? { authFor: options.auth.serveraddress } : {}),
    });
    if (this.#hanging.has(host)) {
      await hang(options.stallMs ?? 60_000, options.signal);
      if (options.signal?.aborted) return;
      throw pullFailure(options.ref, `no answer from the engine or the registry for ${Math.round((options.stallMs ?? 60_000) / 1000)} s (i/o timeout)`);
    }
    if (this.#offline.has(host)) {
      throw pullFailure(options.ref, `Get "http://${host}/v2/": dial tcp ${host}: connect: connection refused`, 500);
    }
    const wanted = this.#credentials.get(host);
    if (wanted) {
      const a = options.auth;
      if (!a) throw pullFailure(options.ref, `Head "http://${host}/v2/${repoPath(ref)}/manifests/${tagOf(ref)}": no basic auth credentials`, 500);
      if (a.username !== wanted.username || a.password !== wanted.password) {
        throw pullFailure(options.ref, 'unauthorized: authentication required', 500);
      }
    }
    const image = this.#images.get(ref);
    if (!image) throw pullFailure(options.ref, `manifest for ${ref} not found: manifest unknown: manifest unknown`, 404);
    if (options.platform && image.platforms && !image.platforms.includes(options.platform)) {
      throw pullFailure(options.ref, `no matching manifest for ${options.platform} in the manifest list entries`, 500);
    }
    yield { kind: 'status', text: `Pulling from ${repoPath(ref)} ${tagOf(ref)}` };
    for (let i = 0; i < image.layers; i++) {
      const id = `${i}`.padStart(12, 'a');
      yield { kind: 'layer', id, status: 'Downloading', current: 50, total: 100 };
      yield { kind: 'layer', id, status: 'Pull complete' };
    }
    store(ref);
    yield { kind: 'status', text: `Status: Downloaded newer image for ${ref}` };
  }
}

function hang(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

function repoPath(ref: string): string {
  const host = registryHost(ref);
  const name = ref.replace(/[:@][^/]*$/, '');
  return host === 'docker.io' && !name.startsWith('docker.io/') ? name : name.slice(host.length + 1);
}

function tagOf(ref: string): string {
  return /[:@]([^/:@]+)$/.exec(ref)?.[1] ?? 'latest';
}
