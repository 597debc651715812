// What the gateway tests on the fake engine share: a CMESH_HOME of their own and a gateway base image, so the image's
// build context stays small (no host node binary to hash or pack) and the timings are the test's own.

import { mkdtemp, rm } from 'node:fs/promises';
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
