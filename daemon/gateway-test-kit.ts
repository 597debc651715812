// What the gateway tests on the fake engine share: a CMESH_HOME of their own and a gateway base image, so the image's
// build context stays small (no host node binary to hash or pack) and the timings are the test's own.

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

/** Sets CMESH_GATEWAY_BASE_IMAGE to `base` and makes a temporary home for the file's tests; both undone after them. */
export function gatewayTestHome(prefix: string, base: string): { readonly home: string } {
  const state = { home: '' };
  const saved = process.env['CMESH_GATEWAY_BASE_IMAGE'];
  before(async () => {
    state.home = await mkdtemp(join(tmpdir(), prefix));
    process.env['CMESH_GATEWAY_BASE_IMAGE'] = base;
  });
  after(async () => {
    if (saved === undefined) delete process.env['CMESH_GATEWAY_BASE_IMAGE'];
    else process.env['CMESH_GATEWAY_BASE_IMAGE'] = saved;
    await rm(state.home, { recursive: true, force: true });
  });
  return state;
}

/** A gateway's end of a project's control socket, as the tests play it: the lines the daemon sent, and a way to answer. */
export async function controlConnection(path: string) {
  const socket = net.connect(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject));
  const lines: string[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  return { socket, lines, send: (v: unknown) => socket.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`) };
}
