// The daemon with metrics: the endpoint is shown in DaemonInfo; a taken metrics port leaves the daemon running
// without metrics and says so (DaemonInfo.metrics.error, a log line, an `error` DaemonEvent); --since history.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { resolveHome } from './api/home.ts';

test('metrics endpoint in DaemonInfo; a taken port → daemon runs without metrics and says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-'));
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as net.AddressInfo).port;
  const logs: string[] = [];
  const first = await startDaemon({ home: resolveHome({ CMESH_HOME: join(dir, 'a') }), engine: new FakeEngine(), version: 't', metrics: { host: '127.0.0.1', port: 0 } });
  const second = await startDaemon({
    home: resolveHome({ CMESH_HOME: join(dir, 'b') }),
    engine: new FakeEngine(),
    version: 't',
    metrics: { host: '127.0.0.1', port: taken },
    log: (l) => logs.push(l),
  });
  try {
    const ok = (await first.info()).metrics;
    assert.ok(ok && 'url' in ok, JSON.stringify(ok));
    const res = await fetch(ok.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /cmesh_process_resident_memory_bytes/);

    const bad = (await second.info()).metrics;
    assert.ok(bad && 'error' in bad);
    assert.match(bad.error, new RegExp(`127\\.0\\.0\\.1:${taken} is already in use`));
    assert.ok(logs.some((l) => l.includes('metrics disabled')), logs.join('\n'));
    const errors = second.bus.recent(0, (e) => e.type === 'error');
    assert.equal(errors.length, 1);
    assert.match(JSON.stringify(errors[0]), /already in use/);
    assert.equal((await second.info()).engine.ok, true, 'the daemon still serves');
  } finally {
    await first.close();
    await second.close();
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
});
