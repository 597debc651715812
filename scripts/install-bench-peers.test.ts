// scripts/install-bench-peers.sh against stand-ins for apt-get, apt-cache, dpkg-query, systemctl and service (the
// only commands on its PATH besides a few coreutils): what it installs, that it does so non-interactively with the
// services' start held off, stops only the services of packages it installed, and does nothing when all is there.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./install-bench-peers.sh', import.meta.url));
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const STUBS: Record<string, string> = {
  // Records each call with what an install must run under; "installs" a package by putting its command in place.
  'apt-get': `echo "apt-get $* frontend=$DEBIAN_FRONTEND policy=$(tail -n1 "$POLICY_RC_D" 2>/dev/null)" >> "$LOG"
[ "$1" = update ] && touch "$STUBS/updated"
if [ "$1" = install ]; then
  for p in "$@"; do
    case "$p" in -*|install) ;; libnginx-mod-stream) touch "$STUBS/stream-installed" ;; *) printf '#!/bin/sh\\n' > "$STUBS/$p"; chmod +x "$STUBS/$p" ;; esac
  done
fi`,
  // The package lists know nothing until an update.
  'apt-cache': `if [ -e "$STUBS/updated" ]; then echo "  Candidate: 1.0"; else echo "  Candidate: (none)"; fi`,
  'dpkg-query': `[ -e "$STUBS/stream-installed" ] && printf 'install ok installed'`,
  systemctl: `echo "systemctl $*" >> "$LOG"`,
  service: `echo "service $*" >> "$LOG"`,
  'update-rc.d': `echo "update-rc.d $*" >> "$LOG"`,
  sudo: `exec "$@"`,
};

function sandbox(present: string[] = []): { stubs: string; log: string; policy: string; run: () => { status: number | null; out: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'cmesh-peers-'));
  dirs.push(dir);
  const stubs = join(dir, 'bin');
  spawnSync('mkdir', [stubs]);
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(stubs, name), 0o755);
  }
  for (const tool of ['id', 'grep', 'tee', 'chmod', 'rm', 'tail', 'touch', 'cat', 'sh']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(real, join(stubs, tool));
  }
  for (const p of present) {
    if (p === 'libnginx-mod-stream') writeFileSync(join(stubs, 'stream-installed'), '');
    else writeFileSync(join(stubs, p), '#!/bin/sh\n', { mode: 0o755 });
  }
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const policy = join(dir, 'policy-rc.d');
  const env = { PATH: stubs, LOG: log, STUBS: stubs, POLICY_RC_D: policy };
  return {
    stubs,
    log,
    policy,
    run: () => {
      const r = spawnSync('/bin/bash', [SCRIPT], { env, encoding: 'utf8' });
      return { status: r.status, out: r.stdout + r.stderr };
    },
  };
}

const lines = (log: string): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);
const stopped = (calls: string[], svc: string): boolean =>
  calls.includes(`systemctl disable --now ${svc}`) || calls.includes(`service ${svc} stop`);

test('install-bench-peers: installs every missing peer in one non-interactive apt-get, services held off and stopped', () => {
  const box = sandbox();
  const first = box.run();
  assert.equal(first.status, 0, first.out);
  const calls = lines(box.log);
  assert.deepEqual(calls.filter((c) => c.startsWith('apt-get')), [
    // The lists knew none of them: one update first.
    'apt-get update -qq frontend=noninteractive policy=',
    'apt-get install -y -qq --no-install-recommends nginx haproxy caddy wrk libnginx-mod-stream docker-compose frontend=noninteractive policy=exit 101',
  ]);
  assert.ok(!existsSync(box.policy), 'the policy-rc.d it put in place is gone after the install');
  for (const svc of ['nginx', 'haproxy', 'caddy']) assert.ok(stopped(calls, svc), `${svc}'s service is stopped: ${calls.join('; ')}`);
  assert.match(first.out, /installed: nginx haproxy caddy wrk libnginx-mod-stream docker-compose/);

  // Idempotent: everything is there now, nothing is called.
  writeFileSync(box.log, '');
  const second = box.run();
  assert.equal(second.status, 0, second.out);
  assert.deepEqual(lines(box.log), []);
  assert.match(second.out, /every bench peer is installed/);
});

test('install-bench-peers: only the missing ones; a service that was there before is left alone', () => {
  const box = sandbox(['nginx', 'wrk', 'libnginx-mod-stream', 'docker-compose']);
  writeFileSync(join(box.stubs, 'updated'), '');
  const r = box.run();
  assert.equal(r.status, 0, r.out);
  const calls = lines(box.log);
  assert.deepEqual(calls.filter((c) => c.startsWith('apt-get')), ['apt-get install -y -qq --no-install-recommends haproxy caddy frontend=noninteractive policy=exit 101']);
  assert.ok(stopped(calls, 'haproxy') && stopped(calls, 'caddy'), calls.join('; '));
  assert.ok(!calls.some((c) => c.includes('nginx')), `nginx (there before) is not touched: ${calls.join('; ')}`);
});

test('install-bench-peers: an existing policy-rc.d is the host’s: used as it is, not removed', () => {
  const box = sandbox(['nginx', 'haproxy', 'caddy', 'libnginx-mod-stream', 'docker-compose']);
  writeFileSync(join(box.stubs, 'updated'), '');
  writeFileSync(box.policy, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const r = box.run();
  assert.equal(r.status, 0, r.out);
  assert.deepEqual(lines(box.log), ['apt-get install -y -qq --no-install-recommends wrk frontend=noninteractive policy=exit 0']);
  assert.equal(readFileSync(box.policy, 'utf8'), '#!/bin/sh\nexit 0\n');
});
