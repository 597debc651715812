// zod/mini registers no locale of its own (only classic's first schema does): the gateway's worker, which loads no
// classic, would read every refusal as a bare "Invalid input". Each mini schema module registers English itself; this
// loads each one alone in a fresh process (no classic import anywhere in it) and reads the message of a refusal.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** In a fresh node (through tsx), imports `module`, parses `input` with its export `schema`; the first issue's message. */
function messageAlone(module: string, schema: string, input: unknown): string {
  const code = `const m = await import(${JSON.stringify(`./daemon/api/${module}`)});
const r = m[${JSON.stringify(schema)}].safeParse(${JSON.stringify(input)});
process.stdout.write(r.success ? 'PARSED' : r.error.issues[0].message);`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout;
}

test('the gateway table schema refuses in English without zod classic loaded', () => {
  const message = messageAlone('gateway-control.ts', 'gatewayTableSchema', { type: 'table', version: 1, project: 5, services: [] });
  assert.notEqual(message, 'Invalid input');
  assert.match(message, /^Invalid input: expected string, received number$/);
});

test('the traffic policy schema refuses in English without zod classic loaded', () => {
  const message = messageAlone('traffic-policy-schema.ts', 'TrafficPolicySchema', { rateLimit: { requestsPerSecond: 'x' } });
  assert.notEqual(message, 'Invalid input');
  assert.match(message, /^Invalid input: expected/);
});
