// The adapter's streams against a scripted HTTP engine (scripted-engine.ts): events, logs and builds split at
// arbitrary points, abort and connection loss, recorded build NDJSON; no Docker.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BuildProgress, EngineEvent, LogLine } from '../api/engine.ts';
import { eventually } from '../../test/helpers/eventually.ts';
import { createDockerEngine } from './dockerode-engine.ts';
import { collect as drain, rejectsCode } from './engine-test-kit.ts';
import { json, ScriptedEngine, sleep } from './scripted-engine.ts';

const scripted = new ScriptedEngine();
const route = scripted.route.bind(scripted);
const seen = scripted.seen;
const engine = createDockerEngine({ host: `unix://${scripted.socketPath}` });

/** The adapter's second /events subscription: every container's network links. */
function isLinkQuery(url: URL): boolean {
  return (JSON.parse(url.searchParams.get('filters') ?? '{}') as { event?: string[] }).event !== undefined;
}

function frame(type: 1 | 2, text: string): Buffer {
  const data = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

describe('dockerode adapter streams against a scripted engine', () => {
  before(() => scripted.start());
  after(() => scripted.stop());

  it('parses split event JSON, drops exec noise, keeps network links from their own subscription, and reports a dropped stream as CMESH_E_ENGINE_UNAVAILABLE', async () => {
    const ev = (action: string, id: string) =>
      JSON.stringify({
        Type: 'container',
        Action: action,
        Actor: { ID: id, Attributes: { 'dev.cmesh.managed': 'true', name: 'p-web-1', exitCode: '0' } },
        time: 1_700_000_000,
        timeNano: 0,
        // The engine sends nanoseconds beyond double precision; keep the raw digits.
      }).replace('"timeNano":0', '"timeNano":1700000000123456789');
    const link = (action: string, container: string) =>
      JSON.stringify({ Type: 'network', Action: action, Actor: { ID: 'n1', Attributes: { container, name: 'p_default', type: 'bridge' } }, time: 1 });
    route('GET', '/events', async (_q, res, url) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (isLinkQuery(url)) {
        // The link subscription: it stays open until the other one drops (then the whole stream ends).
        res.write(`${link('disconnect', 'c1')}\n${JSON.stringify({ Type: 'network', Action: 'create', Actor: { ID: 'n2' }, time: 1 })}\n`);
        return;
      }
      await sleep(20); // the link event is in first
      const text = `${ev('start', 'a')}\n${ev('exec_start: sh -c true', 'a')}\n${ev('die', 'a')}${ev('destroy', 'a')}\n`;
      for (let i = 0; i < text.length; i += 17) {
        res.write(text.slice(i, i + 17));
        await sleep(1);
      }
      res.destroy(); // connection loss, not a clean end
    });
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    const err = await rejectsCode(drain(engine.events({ signal: ac.signal, since: 1_700_000_000_500 }), events), 'CMESH_E_ENGINE_UNAVAILABLE');
    assert.match(err.hint ?? '', /ensure-docker/);
    assert.deepEqual(
      events.map((e) => e.action),
      ['disconnect', 'start', 'die', 'destroy'],
    );
    assert.deepEqual(events[0], {
      type: 'network',
      action: 'disconnect',
      id: 'n1',
      labels: {},
      attributes: { container: 'c1', name: 'p_default', type: 'bridge' },
      time: 1000,
    });
    assert.deepEqual(events[1], {
      type: 'container',
      action: 'start',
      id: 'a',
      labels: { 'dev.cmesh.managed': 'true' },
      attributes: { 'dev.cmesh.managed': 'true', name: 'p-web-1', exitCode: '0' },
      time: 1_700_000_000_123,
    });
    const urls = seen.filter((s) => s.url.pathname === '/events').slice(-2).map((s) => s.url);
    assert.deepEqual(
      urls.map((u) => JSON.parse(u.searchParams.get('filters') ?? '{}')).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        { label: ['dev.cmesh.managed=true'], type: ['container', 'network', 'volume'] },
        { type: ['network'], event: ['connect', 'disconnect'] },
      ],
    );
    for (const url of urls) assert.equal(url.searchParams.get('since'), '1700000000.500000000');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  it('ends the event stream quietly on abort and closes the connection', async () => {
    let serverSawClose = false;
    route('GET', '/events', (_q, res) => {
      res.on('close', () => {
        serverSawClose = true;
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ Type: 'network', Action: 'create', Actor: { ID: 'n1', Attributes: {} }, time: 1 }));
      // …and never end: only the client's abort can finish this.
    });
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    // Abort once the first event is in (not after a fixed delay, which a loaded machine can outrun).
    for await (const event of engine.events({ signal: ac.signal })) {
      events.push(event);
      ac.abort();
    }
    assert.equal(events.length, 1);
    assert.equal(events[0]?.time, 1000);
    await eventually(() => serverSawClose, 'the abort closed the connection');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  it('demultiplexes non-TTY logs split at arbitrary points, and passes TTY logs raw', async () => {
    route('GET', '/containers/c3/json', (_q, res) => json(res, 200, { Id: 'c3', Config: { Tty: false } }));
    route('GET', '/containers/c3/logs', async (_q, res) => {
      res.writeHead(200);
      const bytes = Buffer.concat([
        frame(1, '2024-01-01T00:00:00.001000000Z hello\n2024-01-01T00:00:00.002000000Z wor'),
        frame(1, 'ld\n'),
        frame(2, '2024-01-01T00:00:00.003000000Z oops\n'),
      ]);
      for (let i = 0; i < bytes.length; i += 5) {
        res.write(bytes.subarray(i, i + 5));
        await sleep(1);
      }
      res.end();
    });
    const lines = await drain(engine.containerLogs('c3', { follow: true, tail: 10 }));
    assert.deepEqual(lines, [
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 1), text: 'hello' },
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 2), text: 'world' },
      { stream: 'stderr', time: Date.UTC(2024, 0, 1, 0, 0, 0, 3), text: 'oops' },
    ] satisfies LogLine[]);
    const q = seen.filter((s) => s.url.pathname === '/containers/c3/logs').at(-1)!.url.searchParams;
    assert.equal(q.get('timestamps'), 'true');
    assert.equal(q.get('tail'), '10');

    route('GET', '/containers/c4/json', (_q, res) => json(res, 200, { Id: 'c4', Config: { Tty: true } }));
    route('GET', '/containers/c4/logs', (_q, res) => {
      res.writeHead(200);
      res.end('2024-01-01T00:00:00.004000000Z \u0001tty line\r\n');
    });
    assert.deepEqual(await drain(engine.containerLogs('c4', { follow: false })), [
      { stream: 'stdout', time: Date.UTC(2024, 0, 1, 0, 0, 0, 4), text: '\u0001tty line' },
    ]);

    route('GET', '/containers/gone/json', (_q, res) => json(res, 404, { message: 'No such container: gone' }));
    assert.deepEqual(await drain(engine.containerLogs('gone', { follow: true })), []);
  });

  it('replays recorded build NDJSON: failure on HTTP 200 names the step; success yields done', async () => {
    const sample = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
    let body = sample('build-failing-run.ndjson');
    let query: URLSearchParams | undefined;
    route('POST', '/build', async (req, res, url) => {
      query = url.searchParams;
      for await (const _ of req) {
        // consume the context
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < body.length; i += 33) res.write(body.subarray(i, i + 33));
      res.end();
    });
    const progress: BuildProgress[] = [];
    const build = () =>
      drain(
        engine.buildImage({
          context: Readable.from([Buffer.alloc(1024)]),
          dockerfile: 'docker/Dockerfile',
          tags: ['app:dev', 'app:latest'],
          args: { A: '1' },
          target: 'prod',
          labels: { 'dev.cmesh.test': 'true' },
          noCache: true,
        }),
        progress,
      );
    const err = await rejectsCode(build(), 'CMESH_E_BUILD_FAILED');
    assert.equal(err.details.step, 3);
    assert.deepEqual(err.details.output, ['about to fail', 'oops']);
    assert.equal(progress.at(-1)?.kind, 'error');
    assert.deepEqual(query?.getAll('t'), ['app:dev', 'app:latest']);
    assert.equal(query?.get('dockerfile'), 'docker/Dockerfile');
    assert.deepEqual(JSON.parse(query?.get('buildargs') ?? ''), { A: '1' });
    assert.equal(query?.get('target'), 'prod');
    assert.equal(query?.get('nocache'), 'true');
    assert.equal(query?.get('rm'), 'true');
    assert.equal(query?.get('forcerm'), 'true');

    body = sample('build-good.ndjson');
    progress.length = 0;
    await build();
    assert.deepEqual(progress.at(-1), {
      kind: 'done',
      imageId: 'sha256:0a4e63321b98cf65985b8768d07e30e70b5c970fa943614d2ec64fc9646f8b97',
    });

    body = Buffer.from('{"stream":"Step 1/1 : FROM scratch"}\n');
    await rejectsCode(build(), 'CMESH_E_BUILD_FAILED');
  });
});
