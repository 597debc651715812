// Engine contract, interactive: exec sessions (exit codes, demultiplexed or TTY output, stdin), attach before start
// with wait, and getArchive giving back what putArchive stored.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { IoChunk, IoSession } from '../api/engine-io.ts';
import type { ContractContext } from './engine-contract-types.ts';
import { collect, rejectsCode, tarOf } from './engine-test-kit.ts';

const text = (chunks: IoChunk[], stream: IoChunk['stream']) =>
  Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString();

async function drain(session: IoSession): Promise<{ chunks: IoChunk[]; exitCode: number }> {
  try {
    const chunks = await collect(session.output);
    return { chunks, exitCode: await session.exitCode() };
  } finally {
    session.close();
  }
}

async function untar(tar: Readable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ex = extract();
  tar.pipe(ex);
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    for await (const part of entry) parts.push(part as Buffer);
    if (entry.header.type === 'file') out[entry.header.name] = Buffer.concat(parts).toString();
  }
  return out;
}

export function ioCases(c: ContractContext): void {
  describe('exec and attach sessions, archives', () => {
    it('execIo passes the exit code, splits stdout from stderr, and merges them on a TTY', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('execio'));
      await rejectsCode(engine.execIo(id, { command: c.sh('true'), tty: false, stdin: false }), 'CMESH_E_ENGINE');
      await engine.startContainer(id);
      const plain = await drain(await engine.execIo(id, { command: c.sh('echo out; echo err >&2; exit 3'), tty: false, stdin: false }));
      assert.equal(plain.exitCode, 3);
      assert.equal(text(plain.chunks, 'stdout'), 'out\n');
      assert.equal(text(plain.chunks, 'stderr'), 'err\n');
      const tty = await drain(await engine.execIo(id, { command: c.sh('echo hi; echo there >&2'), tty: true, stdin: false }));
      assert.equal(tty.exitCode, 0);
      assert.equal(text(tty.chunks, 'stderr'), '', 'a TTY has one stream');
      assert.equal(text(tty.chunks, 'stdout'), 'hi\r\nthere\r\n');
      await engine.removeContainer(id, { force: true });
    });

    it('execIo forwards stdin until its EOF', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('execstdin'));
      await engine.startContainer(id);
      const session = await engine.execIo(id, { command: ['cat'], tty: false, stdin: true });
      session.write(Buffer.from('ping\n'));
      session.write(Buffer.from('pong\n'));
      session.endInput();
      const { chunks, exitCode } = await drain(session);
      assert.equal(exitCode, 0);
      assert.equal(text(chunks, 'stdout'), 'ping\npong\n');
      await engine.removeContainer(id, { force: true });
    });

    it('attaches before start, sees all output, and waits for the exit code', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('attach', { command: c.sh('echo a; echo b >&2; exit 4') }));
      const session = await engine.attachContainer(id, { stdin: false, tty: false });
      await engine.startContainer(id);
      const { chunks, exitCode } = await drain(session);
      assert.equal(exitCode, 4);
      assert.equal(text(chunks, 'stdout'), 'a\n');
      assert.equal(text(chunks, 'stderr'), 'b\n');
      assert.equal(await engine.waitContainer(id), 4, 'wait on a stopped container answers at once');
      await engine.removeContainer(id);
      await rejectsCode(engine.waitContainer(id), 'CMESH_E_ENGINE');
    });

    it('getArchive gives back a file putArchive stored; a missing path fails', async () => {
      const { engine } = c.h;
      const { id } = await engine.createContainer(c.spec('getarchive'));
      await engine.startContainer(id);
      await engine.putArchive(id, '/tmp', tarOf({ 'round.txt': 'round trip\n' }));
      assert.deepEqual(await untar(await engine.getArchive(id, '/tmp/round.txt')), { 'round.txt': 'round trip\n' });
      await rejectsCode(engine.getArchive(id, '/tmp/not-there.txt'), 'CMESH_E_ENGINE');
      await engine.removeContainer(id, { force: true });
    });
  });
}
