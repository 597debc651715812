// hashFile: the same digest as hashing the whole file, across chunk boundaries; and hashing the host's node binary
// (~100 MB, what the gateway image tag hashes) leaves the process's RSS where it was, measured in a fresh process. The
// memo: a second digest of an unchanged file reads nothing; a file written in place or replaced is read again.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { fileDigest, hashFile, memoFileDigest } from './file-digest.ts';

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

test('the memo reads an unchanged file once (callers at once share the read), and again once it is written or replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-digest-memo-'));
  try {
    const file = join(dir, 'node');
    await writeFile(file, 'node one');
    const reads: string[] = [];
    const digest = memoFileDigest(async (h, path) => {
      reads.push(path);
      await hashFile(h, path);
    });
    const sha = async (): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');
    const [a, b] = await Promise.all([digest(file), digest(file)]);
    assert.equal(a.toString('hex'), await sha());
    assert.deepEqual(b, a);
    assert.deepEqual(await digest(file), a);
    assert.equal(reads.length, 1, 'three digests of an unchanged file, one read');

    // Same size, mtime set back: only the ctime tells, as after a copy over the binary in place.
    const { atime, mtime } = await stat(file);
    await writeFile(file, 'node two');
    await utimes(file, atime, mtime);
    assert.equal((await digest(file)).toString('hex'), await sha());
    assert.notDeepEqual(await digest(file), a);
    assert.equal(reads.length, 2, 'written in place: read again, once');

    await writeFile(join(dir, 'next'), 'node one');
    await rename(join(dir, 'next'), file);
    assert.deepEqual(await digest(file), a, 'replaced (a new inode): read again');
    assert.equal(reads.length, 3);
    assert.deepEqual(await fileDigest(file), a, "the daemon's memo gives the same digest");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file that changes while it is read, or cannot be read, is not remembered', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-digest-memo-'));
  try {
    const file = join(dir, 'node');
    await writeFile(file, 'before');
    let reads = 0;
    const digest = memoFileDigest(async (h, path) => {
      reads++;
      await hashFile(h, path);
      if (reads === 1) await writeFile(path, 'during');
    });
    await digest(file);
    assert.equal((await digest(file)).toString('hex'), createHash('sha256').update('during').digest('hex'));
    assert.equal(reads, 2, 'changed during the first read: the second digest read it again');
    await digest(file);
    assert.equal(reads, 2, 'unchanged since the second read: remembered');

    let fail = true;
    const flaky = memoFileDigest(async (h, path) => {
      if (fail) throw Object.assign(new Error('EIO'), { code: 'EIO' });
      await hashFile(h, path);
    });
    await assert.rejects(flaky(file), /EIO/);
    fail = false;
    assert.equal((await flaky(file)).toString('hex'), createHash('sha256').update('during').digest('hex'), 'a failed read is not kept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
