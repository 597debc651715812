import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../program.ts';
import { captureContext } from '../test-helpers.ts';

test('dash without a TTY exits 2 and points at ps/events', async () => {
  const ctx = captureContext({ env: { NO_COLOR: '1' } });
  const code = await runCli(['-p', 'shop', 'dash'], ctx);
  assert.equal(code, 2);
  assert.match(ctx.err(), /`cmesh dash` needs an interactive terminal/);
  assert.match(ctx.err(), /cmesh ps`.*`cmesh events`/);
  assert.equal(ctx.out(), '');
});
