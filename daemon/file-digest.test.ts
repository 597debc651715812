// hashFile: the same digest as hashing the whole file, across chunk boundaries; and hashing the host's node binary
// (~100 MB, what the gateway image tag hashes) leaves the process's RSS where it was, measured in a fresh process.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { hashFile } from './file-digest.ts';

test('the digest of the whole file: empty, smaller than a chunk, and chunks plus a tail', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-digest-'));
  try {
    for (const size of [0, 1000, (1 << 20) * 3 + 17]) {
      const data = Buffer.alloc(size, 0);
      for (let i = 0; i < size; i += 4093) data[i] = i % 251;
      const file = join(dir, `f${size}`);
      await writeFile(file, data);
      const h = createHash('sha256');
      await hashFile(h, file);
      assert.equal(h.digest('hex'), createHash('sha256').update(await readFile(file)).digest('hex'), `size ${size}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("hashing the node binary grows the process's RSS by a few MiB, not by the tens of MiB a read stream left", { timeout: 60_000 }, async () => {
  assert.ok((await stat(process.execPath)).size > 50 * 2 ** 20, 'a large enough file to show the difference');
  const script = `
    const { createHash } = await import('node:crypto');
    const { hashFile } = await import(${JSON.stringify(new URL('./file-digest.ts', import.meta.url).href)});
    const before = process.memoryUsage().rss;
    await hashFile(createHash('sha256'), process.execPath);
    await new Promise((r) => setTimeout(r, 200));
    console.log(JSON.stringify({ grewMiB: (process.memoryUsage().rss - before) / 2 ** 20 }));`;
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env });
  const { grewMiB } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { grewMiB: number };
  assert.ok(grewMiB < 8, `RSS grew ${grewMiB.toFixed(1)} MiB`);
});
