// Parses the engine's classic-builder NDJSON into BuildProgress; an error line fails the build even on HTTP 200.

import type { BuildProgress } from '../api/engine.ts';
import { CmeshError } from '../api/errors.ts';
import { JsonObjectSplitter } from './json-stream.ts';

/** Output lines kept for the failure report: enough to show the error, small enough for a terminal. */
const TAIL_LINES = 10;
const STEP_RE = /^Step (\d+)\/(\d+) : (.*)$/;
// Builder plumbing ("---> 1a2b3c", "---> Running in …", "Removing intermediate container …") is noise for users.
const NOISE_RE = /^ --->( |$)|^Removing intermediate container /;
const ANSI_RE = /\u001b\[[0-9;]*[A-Za-z]/g;
// The engine tries to pull a base image it does not have; cmesh never pulls, so say what to do instead.
const PULL_RE = /pull access denied|failed to resolve|no such host|dial tcp|Get "?https?:|manifest unknown|not found: manifest/i;

export interface BuildFailureDetails {
  step?: number;
  total?: number;
  instruction?: string;
  exitCode?: number;
  output: string[];
}

export class BuildProgressParser {
  readonly #json = new JsonObjectSplitter();
  #partial = '';
  #step: { step: number; total: number; text: string } | undefined;
  #tail: string[] = [];
  #errorCode: number | undefined;
  /** Set by an `aux.ID` line: the built image. */
  imageId: string | undefined;
  /** Set by an `error`/`errorDetail` line. */
  error: string | undefined;

  push(chunk: Buffer | string): BuildProgress[] {
    const out: BuildProgress[] = [];
    for (const obj of this.#json.push(chunk)) this.#handle(obj, out);
    return out;
  }

  /** Flushes a trailing partial output line. */
  end(): BuildProgress[] {
    const out: BuildProgress[] = [];
    for (const obj of this.#json.end()) this.#handle(obj, out);
    this.#flushPartial(out);
    return out;
  }

  get currentStep(): { step: number; total: number; text: string } | undefined {
    return this.#step;
  }

  failureDetails(): BuildFailureDetails {
    return {
      ...(this.#step ? { step: this.#step.step, total: this.#step.total, instruction: this.#step.text } : {}),
      ...(this.#errorCode === undefined ? {} : { exitCode: this.#errorCode }),
      output: [...this.#tail],
    };
  }

  /** The CmeshError for a failed build: names the failing step and carries the last output lines. */
  failure(message = this.error ?? 'the build ended without producing an image'): CmeshError {
    return buildFailure(message, this.failureDetails());
  }

  #handle(obj: Record<string, unknown>, out: BuildProgress[]): void {
    if (typeof obj.stream === 'string') {
      this.#text(obj.stream, out);
      return;
    }
    const detail = obj.errorDetail as { message?: unknown; code?: unknown } | undefined;
    const message =
      (detail && typeof detail.message === 'string' && detail.message) ||
      (typeof obj.error === 'string' && obj.error) ||
      undefined;
    if (message !== undefined) {
      this.#flushPartial(out);
      this.error = message.trim();
      if (detail && typeof detail.code === 'number') this.#errorCode = detail.code;
      out.push({ kind: 'error', message: this.error });
      return;
    }
    const aux = obj.aux as { ID?: unknown } | undefined;
    if (aux && typeof aux.ID === 'string') {
      this.imageId = aux.ID;
      return;
    }
    // `status` lines come from an implicit pull of a base image; surface them as output rather than dropping them.
    if (typeof obj.status === 'string') this.#line(obj.status, out);
  }

  #text(text: string, out: BuildProgress[]): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#line(line, out);
  }

  #flushPartial(out: BuildProgress[]): void {
    if (this.#partial !== '') this.#line(this.#partial, out);
    this.#partial = '';
  }

  #line(raw: string, out: BuildProgress[]): void {
    const line = raw.replace(ANSI_RE, '').replace(/\r$/, '').trimEnd();
    if (line.trim() === '' || NOISE_RE.test(line)) return;
    const step = STEP_RE.exec(line);
    if (step) {
      this.#step = { step: Number(step[1]), total: Number(step[2]), text: step[3] ?? '' };
      out.push({ kind: 'step', ...this.#step });
      return;
    }
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    out.push({ kind: 'output', text: line });
  }
}

export function buildFailure(message: string, details: BuildFailureDetails): CmeshError {
  const where =
    details.step === undefined ? '' : ` at step ${details.step}/${details.total} (${details.instruction ?? '?'})`;
  const hint = PULL_RE.test(message)
    ? 'the base image is not present locally and cmesh never pulls: build it first (scripts/build-base-images.sh) or use a local image'
    : details.output.length > 0
      ? 'see the last output lines above'
      : undefined;
  return new CmeshError('CMESH_E_BUILD_FAILED', `build failed${where}: ${message}`, {
    ...(hint ? { hint } : {}),
    details: { ...details },
  });
}

/** Parses a whole recorded NDJSON document (tests, diagnostics). */
export function parseBuildOutput(text: string): { progress: BuildProgress[]; parser: BuildProgressParser } {
  const parser = new BuildProgressParser();
  const progress = [...parser.push(text), ...parser.end()];
  return { progress, parser };
}
