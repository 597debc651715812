// The fake engine's images and builds: present-or-not images (never pulled) and scripted build progress.

import type { BuildOptions, BuildProgress, ImageInfo, ImageSummary } from '../api/engine.ts';
import { BuildProgressParser, buildFailure } from './build-progress.ts';
import { type FakeCore, matches } from './fake-core.ts';
import { withLatestTag } from '../api/engine-images.ts';
import { classicBuildOutput, dockerfileExposes, fileFromTar } from './fake-dockerfile.ts';

/** What the next builds produce: progress items (a `done` is appended if missing) or a failure. */
export type BuildScript = BuildProgress[] | { fail: string; output?: string[] };

export class FakeImages {
  readonly #f: FakeCore;
  script: BuildScript | undefined;

  constructor(core: FakeCore) {
    this.#f = core;
  }

  add(ref: string, labels: Record<string, string> = {}, exposedPorts: ImageInfo['exposedPorts'] = []): ImageInfo {
    const now = this.#f.now();
    const info: ImageInfo = { id: `sha256:${this.#f.nextId('b')}`, tags: [withLatestTag(ref)], labels, created: now, lastTagTime: now, exposedPorts };
    this.#f.images.set(withLatestTag(ref), info);
    return info;
  }

  async inspect(ref: string): Promise<ImageInfo | undefined> {
    const f = this.#f;
    f.enter('inspectImage', [ref]);
    const img = f.images.get(withLatestTag(ref)) ?? [...f.images.values()].find((i) => i.id === ref);
    // Not strict: any tag is present (an id names only an image the fake has).
    if (!img && !f.opts.strictImages && !ref.startsWith('sha256:')) return this.add(ref);
    return img && { ...img, tags: [...img.tags], exposedPorts: [...img.exposedPorts] };
  }

  async list(labels: Record<string, string | true>): Promise<ImageSummary[]> {
    this.#f.enter('listImages', [labels]);
    const unique = new Map([...this.#f.images.values()].map((i) => [i.id, i]));
    // As the engine's list: no ExposedPorts, no LastTagTime (inspect has them).
    return [...unique.values()].filter((i) => matches(i.labels, labels)).map(({ exposedPorts: _e, lastTagTime: _t, ...i }) => ({ ...i, tags: [...i.tags] }));
  }

  /** Every tag entry of one image (the map holds one per tag), so a tag change is seen through each. */
  #entries(id: string): ImageInfo[] {
    return [...this.#f.images.values()].filter((i) => i.id === id);
  }

  async tag(ref: string, tag: string): Promise<void> {
    const f = this.#f;
    f.enter('tagImage', [ref, tag]);
    const img = f.images.get(withLatestTag(ref)) ?? [...f.images.values()].find((i) => i.id === ref);
    if (!img) throw f.engineError(404, `No such image: ${ref}`, { op: 'image-tag', subject: ref });
    const name = withLatestTag(tag);
    // As the engine: a tag moves off the image that had it; tagging again (even with a tag it has) sets LastTagTime.
    const previous = f.images.get(name);
    if (previous && previous.id !== img.id) for (const e of this.#entries(previous.id)) e.tags = e.tags.filter((t) => t !== name);
    const now = f.now();
    for (const e of this.#entries(img.id)) {
      if (!e.tags.includes(name)) e.tags.push(name);
      e.lastTagTime = now;
    }
    f.images.set(name, { ...img, tags: [...img.tags.filter((t) => t !== name), name], lastTagTime: now });
  }

  async remove(ref: string): Promise<void> {
    const f = this.#f;
    f.enter('removeImage', [ref]);
    const img = f.images.get(withLatestTag(ref));
    if (!img) return f.benign('image-remove', 404);
    // As the engine: one of several tags is only untagged, whatever uses the image (no refusal, nothing deleted).
    if (img.tags.length > 1) {
      f.images.delete(withLatestTag(ref));
      for (const e of this.#entries(img.id)) e.tags = e.tags.filter((t) => t !== withLatestTag(ref));
      return;
    }
    // As the engine: a container made from this image (by any of its tags or its id), running or not, keeps it.
    const users = [...f.containers.values()].filter((c) => c.imageId === img.id || c.spec.image === img.id || img.tags.includes(withLatestTag(c.spec.image)));
    if (users.length > 0) {
      throw f.engineError(409, `conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image`, {
        op: 'image-remove',
        subject: ref,
      });
    }
    f.images.delete(withLatestTag(ref));
  }

  async *build(options: BuildOptions): AsyncIterable<BuildProgress> {
    const f = this.#f;
    const { extraHosts, networkMode, shmSizeBytes, ulimits, pull, cacheFrom, platform } = options;
    // The engine-level build parameters are recorded only when set, so older recordings read the same.
    const engineOptions = Object.fromEntries(Object.entries({ extraHosts, networkMode, shmSizeBytes, ulimits, pull, cacheFrom, platform }).filter(([, v]) => v !== undefined));
    f.enter('buildImage', [{ dockerfile: options.dockerfile, tags: options.tags, args: options.args, target: options.target, ...engineOptions }]);
    if (f.opts.runDockerfiles && this.script === undefined) {
      yield* this.#runDockerfile(options);
      return;
    }
    for await (const _ of options.context) {
      // Drain the context like the engine does, so the builder's tar stream finishes.
    }
    const script = this.script ?? [{ kind: 'step', step: 1, total: 1, text: 'FROM scratch' }];
    if (!Array.isArray(script)) {
      yield { kind: 'step', step: 1, total: 1, text: 'RUN false' };
      for (const text of script.output ?? []) yield { kind: 'output', text };
      yield { kind: 'error', message: script.fail };
      throw buildFailure(script.fail, { step: 1, total: 1, instruction: 'RUN false', output: script.output ?? [] });
    }
    for (const p of script) {
      if (options.signal?.aborted) return;
      if (p.kind !== 'done') yield p;
    }
    const id = `sha256:${f.nextId('b')}`;
    const now = f.now();
    const tags = options.tags.map(withLatestTag);
    for (const tag of tags) f.images.set(tag, { id, tags: [...tags], labels: options.labels ?? {}, created: now, lastTagTime: now, exposedPorts: [] });
    yield { kind: 'done', imageId: id };
  }

  /** Like the adapter: progress parsed from the engine's NDJSON, and an error line is the build's verdict. */
  async *#runDockerfile(options: BuildOptions): AsyncIterable<BuildProgress> {
    const dockerfile = await fileFromTar(options.context, options.dockerfile);
    const id = `sha256:${this.#f.nextId('b')}`;
    const parser = new BuildProgressParser();
    const labels = options.labels && !options.labelsInDockerfile ? options.labels : {};
    const output = classicBuildOutput(dockerfile, labels, (ref) => this.#f.images.has(withLatestTag(ref)), id);
    for (const p of [...parser.push(output), ...parser.end()]) {
      if (options.signal?.aborted) return;
      yield p;
      if (p.kind === 'error') throw parser.failure();
    }
    if (!parser.imageId) throw parser.failure('the build stream ended without an image id');
    const exposedPorts = dockerfileExposes(dockerfile ?? '', (ref) => this.#f.images.get(withLatestTag(ref))?.exposedPorts ?? []);
    const now = this.#f.now();
    const tags = options.tags.map(withLatestTag);
    for (const tag of tags) this.#f.images.set(tag, { id, tags: [...tags], labels: options.labels ?? {}, created: now, lastTagTime: now, exposedPorts });
    yield { kind: 'done', imageId: parser.imageId };
  }
}
