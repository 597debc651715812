// Helpers the engine's test files share (the contract, the adapter's docker and unit tests, the fake's own tests).

import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { CmeshError } from '../api/errors.ts';

export async function collect<T>(it: AsyncIterable<T>, into: T[] = []): Promise<T[]> {
  for await (const x of it) into.push(x);
  return into;
}

/** Awaits `p` and asserts it fails with a CmeshError of `code`; returns the error for further checks. */
export async function rejectsCode(p: Promise<unknown>, code: string): Promise<CmeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CmeshError, `expected CmeshError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** Polls `fn` until it returns something other than undefined (errors count as not yet), bounded by timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A deterministic tar (sorted names, mtime 0); a file named `busybox` is executable. */
export function tarOf(files: Record<string, Buffer | string>): Readable {
  const p = pack();
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    p.entry({ name, mode: name === 'busybox' ? 0o755 : 0o644, mtime: new Date(0) }, content);
  }
  p.finalize();
  return p as unknown as Readable;
}
