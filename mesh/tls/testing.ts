// Test helper (not a test file): a throwaway local CA and certificate store in a temp dir, removed after the file's tests.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { LocalCa } from './ca.ts';
import { CertStore } from './cert-store.ts';

export interface TestCa {
  /** The temp dir: the CA is in `ca/`, anything else a test writes may go beside it. */
  root: string;
  ca: LocalCa;
  store: CertStore;
}

export async function testCa(prefix: string): Promise<TestCa> {
  const root = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const { ca } = await LocalCa.open(join(root, 'ca'));
  const store = new CertStore(ca);
  after(async () => {
    store[Symbol.dispose]();
    await rm(root, { recursive: true, force: true });
  });
  return { root, ca, store };
}
