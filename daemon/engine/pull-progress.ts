// Parses the engine's pull NDJSON into PullProgress and turns a failure (HTTP status or errorDetail line) into a typed
// error naming the image. The real adapter and the fake share both, so their errors cannot drift apart.

import type { PullProgress } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { JsonObjectSplitter } from './json-stream.ts';

export type PullFailureKind = 'not-found' | 'unauthorized' | 'unreachable' | 'platform' | 'other';

// Registry v2 errors as Engine 20.10 words them (measured against docker-registry 2.8 and Docker Hub's wording).
const NOT_FOUND_RE = /manifest unknown|not found: manifest|name unknown|repository does not exist|no such image|: not found$/i;
const UNAUTHORIZED_RE = /unauthorized|authentication required|no basic auth credentials|incorrect username or password|access (to the resource )?is denied|denied: /i;
const UNREACHABLE_RE =
  /dial tcp|no such host|connection refused|i\/o timeout|network is unreachable|TLS handshake|server gave HTTP response to HTTPS client|context deadline exceeded|Client\.Timeout|connection reset|EOF$/i;
const PLATFORM_RE = /no matching manifest for|image with reference .* was found but does not match the specified platform/i;

/** Docker Hub answers a private or missing repository alike: "pull access denied …, repository does not exist or may require 'docker login'". */
const HUB_DENIED_RE = /pull access denied/i;

export function classifyPullFailure(message: string): PullFailureKind {
  if (PLATFORM_RE.test(message)) return 'platform';
  if (HUB_DENIED_RE.test(message)) return 'not-found';
  if (UNAUTHORIZED_RE.test(message)) return 'unauthorized';
  if (NOT_FOUND_RE.test(message)) return 'not-found';
  if (UNREACHABLE_RE.test(message)) return 'unreachable';
  return 'other';
}

/** The typed error for a failed pull of `image`; `reason` is the engine's own message, kept verbatim in details. */
export function pullFailure(image: string, reason: string, status?: number): CmeshError {
  const kind = classifyPullFailure(reason);
  const details = { image, reason: kind, engineMessage: reason, ...(status === undefined ? {} : { status }) };
  switch (kind) {
    case 'not-found':
      return new CmeshError('CMESH_E_IMAGE_NOT_FOUND', `image ${image} was not found in its registry: ${reason}`, {
        hint: HUB_DENIED_RE.test(reason)
          ? 'check the name and tag; if the repository is private, log in (docker login) so ~/.docker/config.json has credentials'
          : 'check the image name and tag',
        details,
      });
    case 'unauthorized':
      return new CmeshError('CMESH_E_PULL_UNAUTHORIZED', `pulling ${image} was refused by its registry: ${reason}`, {
        hint: `log in to the registry (docker login ${registryHost(image)}): cmesh reads ~/.docker/config.json (or $DOCKER_CONFIG) and its credential helpers`,
        details,
      });
    case 'unreachable':
      return new CmeshError('CMESH_E_PULL_FAILED', `the registry of ${image} could not be reached: ${reason}`, {
        hint: 'check the network and the registry address, or build or load the image locally',
        details,
      });
    case 'platform':
      return new CmeshError('CMESH_E_PULL_FAILED', `image ${image} has no variant for the requested platform: ${reason}`, {
        hint: 'check the service `platform:` (os/arch) against what the image provides',
        details,
      });
    case 'other':
      return new CmeshError('CMESH_E_PULL_FAILED', `pulling ${image} failed: ${reason}`, { details });
  }
}

/** The registry host of a reference as the docker CLI reads it (first component with a dot, a colon, or localhost). */
export function registryHost(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  return first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

export class PullProgressParser {
  readonly #json = new JsonObjectSplitter();
  readonly #image: string;
  /** Set by an `error`/`errorDetail` line: the pull failed even though the HTTP status was 200. */
  error: CmeshError | undefined;

  constructor(image: string) {
    this.#image = image;
  }

  /** Parsed items; throws the typed error at the first error line (STYLE habit 9: never trust the 200). */
  push(chunk: Buffer | string): PullProgress[] {
    return this.#handleAll(this.#json.push(chunk));
  }

  end(): PullProgress[] {
    return this.#handleAll(this.#json.end());
  }

  #handleAll(objs: Record<string, unknown>[]): PullProgress[] {
    const out: PullProgress[] = [];
    for (const obj of objs) {
      const detail = obj.errorDetail as { message?: unknown } | undefined;
      const message =
        (detail && typeof detail.message === 'string' && detail.message) || (typeof obj.error === 'string' && obj.error) || undefined;
      if (message !== undefined) {
        this.error = pullFailure(this.#image, message.trim());
        throw this.error;
      }
      if (typeof obj.status !== 'string') continue;
      const id = typeof obj.id === 'string' ? obj.id : undefined;
      const pd = obj.progressDetail as { current?: unknown; total?: unknown } | undefined;
      // A line with an id and layer-ish status is about one layer; `{"status":"Pulling from x","id":"v1"}` names the tag.
      if (id !== undefined && /^[0-9a-f]{12,64}$/.test(id)) {
        out.push({
          kind: 'layer',
          id,
          status: obj.status,
          ...(typeof pd?.current === 'number' ? { current: pd.current } : {}),
          ...(typeof pd?.total === 'number' ? { total: pd.total } : {}),
        });
      } else {
        out.push({ kind: 'status', text: id === undefined ? obj.status : `${obj.status} ${id}` });
      }
    }
    return out;
  }
}

/** Parses a whole recorded NDJSON document (tests, diagnostics); throws like the stream would. */
export function parsePullOutput(image: string, text: string): PullProgress[] {
  const parser = new PullProgressParser(image);
  return [...parser.push(text), ...parser.end()];
}
