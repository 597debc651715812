import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { BuildProgress } from '../api/engine.ts';
import { BuildProgressParser, parseBuildOutput } from './build-progress.ts';

// Recorded from a real Docker 20.10 engine (classic builder) with curl on /build; see testdata/.
const sample = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

/** Feeds `text` in pieces of the given sizes, cycling, to prove chunk boundaries do not matter. */
function feedSplit(text: string, sizes: number[]): BuildProgress[] {
  const parser = new BuildProgressParser();
  const buf = Buffer.from(text);
  const out: BuildProgress[] = [];
  for (let i = 0, k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(...parser.push(buf.subarray(i, i + n)));
    i += n;
  }
  out.push(...parser.end());
  return out;
}

describe('build NDJSON parser', () => {
  it('parses a good build: steps, output, image id', () => {
    const { progress, parser } = parseBuildOutput(sample('build-good.ndjson'));
    const steps = progress.filter((p) => p.kind === 'step');
    assert.deepEqual(
      steps.map((s) => (s.kind === 'step' ? [s.step, s.total] : [])),
      [1, 2, 3, 4, 5, 6].map((n) => [n, 6]),
    );
    assert.deepEqual(steps[2], {
      kind: 'step',
      step: 3,
      total: 6,
      text: 'RUN ["/bin/busybox", "sh", "-c", "echo hello from build; /bin/busybox mkdir -p /www"]',
    });
    const output = progress.filter((p) => p.kind === 'output').map((p) => (p.kind === 'output' ? p.text : ''));
    assert.deepEqual(output, ['hello from build', 'Successfully built 0a4e63321b98', 'Successfully tagged cmesh-rec-good:latest']);
    assert.equal(parser.imageId, 'sha256:0a4e63321b98cf65985b8768d07e30e70b5c970fa943614d2ec64fc9646f8b97');
    assert.equal(parser.error, undefined);
  });

  it('turns a failing RUN into CMESH_E_BUILD_FAILED naming the step, with the output tail', () => {
    const { progress, parser } = parseBuildOutput(sample('build-failing-run.ndjson'));
    assert.equal(progress.at(-1)?.kind, 'error');
    assert.equal(parser.imageId, undefined);
    const err = parser.failure();
    assert.equal(err.code, 'CMESH_E_BUILD_FAILED');
    assert.match(err.message, /^build failed at step 3\/5 \(RUN \["\/bin\/busybox", "sh", "-c", "echo about to fail; echo oops >&2; exit 3"\]\): The command .* returned a non-zero code: 3$/);
    assert.equal(err.details.step, 3);
    assert.equal(err.details.total, 5);
    assert.equal(err.details.exitCode, 3);
    // stderr comes back wrapped in colour codes; they are stripped.
    assert.deepEqual(err.details.output, ['about to fail', 'oops']);
  });

  it('reports a missing COPY source at its step', () => {
    const { parser } = parseBuildOutput(sample('build-missing-copy.ndjson'));
    const err = parser.failure();
    assert.match(err.message, /step 3\/5 \(COPY nothere\.txt \/x\): COPY failed: file not found in build context/);
    assert.deepEqual(err.details.output, []);
  });

  it('gives the same result for any chunking', () => {
    for (const name of ['build-good.ndjson', 'build-failing-run.ndjson', 'build-missing-copy.ndjson']) {
      const whole = parseBuildOutput(sample(name)).progress;
      for (const sizes of [[1], [2, 3], [7], [64, 1, 13], [4096]]) assert.deepEqual(feedSplit(sample(name), sizes), whole, `${name} ${sizes}`);
    }
  });

  it('keeps only the last 10 output lines and flushes a partial line at the end', () => {
    const lines = Array.from({ length: 15 }, (_, i) => JSON.stringify({ stream: `line ${i}\n` })).join('\n');
    const { parser, progress } = parseBuildOutput(`${lines}\n{"stream":"no newline"}`);
    assert.deepEqual(progress.at(-1), { kind: 'output', text: 'no newline' });
    assert.deepEqual(parser.failureDetails().output, [...Array.from({ length: 9 }, (_, i) => `line ${i + 6}`), 'no newline']);
    assert.match(parser.failure().message, /ended without producing an image/);
  });

  it('hints at local base images when the engine tried to pull', () => {
    const { parser } = parseBuildOutput(
      '{"stream":"Step 1/2 : FROM node:20"}\n{"stream":"\\n"}\n{"errorDetail":{"message":"pull access denied for node, repository does not exist"},"error":"pull access denied for node"}\n',
    );
    const err = parser.failure();
    assert.match(err.message, /step 1\/2 \(FROM node:20\)/);
    assert.match(err.hint ?? '', /never pulls/);
  });
});
