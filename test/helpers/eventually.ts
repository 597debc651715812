// Polls a condition until it holds or the time is up (for in-process tests over the fake engine's async loops).

import assert from 'node:assert/strict';

export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 3000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
