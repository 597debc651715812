// East-west callers that half-close (issue #13 leftover): `printf 'GET / …' | nc api 3000` shuts the client's write
// side after the request, which HTTP/1.1 allows. Through a real gateway, on a port one service has (its proxy reads the
// socket directly) and on a port two services share (the Host dispatcher hands the connection over), every complete
// request is answered, then the gateway closes. The caller is node (cmesh/node:local, for its name lookups) using
// net's `end()` after the request. Traffic only to containers on the network this test's project created.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { until } from '../helpers/cmesh-cli.ts';
import { newRunId, dockerTestFile } from '../helpers/docker.ts';
import { type Call, echoSuite, eastWestCaller, httpCalls, runningIds } from '../helpers/east-west.ts';
import { serviceLabels } from '../helpers/echo-project.ts';

await dockerTestFile();

const runId = newRunId('ewhalf');
const project = runId;
const suite = echoSuite(project, runId);
const caller = eastWestCaller(runId, `${project}_default`);

type HalfClosed = { name: string; raw: string; closed: boolean };

/**
 * Each case on its own connection: connect to host:port by name, write the request bytes, `end()` at once, and read
 * until the gateway closes (5 s bound each). Prints what each read and whether the gateway closed.
 */
const halfCloseCalls = (cases: { name: string; host: string; port: number; payload: string }[]): string => `
const net = require('node:net');
const one = (c) => new Promise((resolve) => {
  let raw = '';
  const s = net.connect({ host: c.host, port: c.port }, () => s.end(c.payload));
  const timer = setTimeout(() => { s.destroy(); resolve({ name: c.name, raw, closed: false }); }, 5000);
  s.setEncoding('latin1');
  s.on('data', (d) => (raw += d));
  s.on('error', (e) => (raw += '<' + (e.code || e.message) + '>'));
  s.on('close', () => { clearTimeout(timer); resolve({ name: c.name, raw, closed: true }); });
});
(async () => { const out = []; for (const c of ${JSON.stringify(cases)}) out.push(await one(c)); console.log(JSON.stringify(out)); })();
`;

function compose(): string {
  const probe = (port: number) => `x-cmesh: { health: { path: /healthz, port: ${port}, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 } }`;
  const service = (name: string, port: number, replicas: number) =>
    [
      `  ${name}:`,
      `    image: ${suite.echo}`,
      `    deploy: { replicas: ${replicas} }`,
      `    environment: { SERVICE_NAME: ${name}, PORT: "${port}" }`,
      `    expose: ["${port}"]`,
      `    ${probe(port)}`,
      serviceLabels(runId).trimEnd(),
    ].join('\n');
  // web and api share 3000 (one listener, told apart by Host; solo too, from the image's EXPOSE); solo alone has 4000
  // (its proxy reads the socket itself).
  return [`name: ${project}`, 'services:', service('web', 3000, 2), service('api', 3000, 1), service('solo', 4000, 1), ''].join('\n');
}

const get = (path: string, host: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
const statuses = (raw: string) => raw.match(/HTTP\/1\.1 \d{3}/g) ?? [];
const servedBy = (raw: string) => [...raw.matchAll(/"service":"(\w+)"/g)].map((m) => m[1]);

test('a caller that half-closes after its request is answered through the gateway, then closed', async () => {
  await writeFile(join(suite.cli!.work, 'compose.yaml'), compose());
  await suite.cli!.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  // The names answer through the gateway before anything else is asked of them (health may still be rising).
  for (const [service, port] of [['web', 3000], ['api', 3000], ['solo', 4000]] as const) {
    assert.ok((await runningIds(suite.cli!, service)).length > 0, `${service} runs`);
    await until(`${service} answers by name`, 30_000, async () => {
      const calls = (await caller(httpCalls(service, port, 6))) as Call[];
      return calls.every((c) => c.service === service) ? calls : undefined;
    }, 500);
  }
  const cases = [
    { name: 'solo', host: 'solo', port: 4000, payload: get('/', 'solo:4000') },
    // The replica answers 300 ms later: the FIN surely reaches the gateway while the request is in flight.
    { name: 'solo slow', host: 'solo', port: 4000, payload: get('/slow?ms=300', 'solo:4000') },
    { name: 'solo pipelined', host: 'solo', port: 4000, payload: get('/', 'solo') + get('/slow?ms=100', 'solo') + get('/', 'solo') },
    { name: 'web (shared port)', host: 'web', port: 3000, payload: get('/', 'web:3000') },
    { name: 'api slow (shared port)', host: 'api', port: 3000, payload: get('/slow?ms=300', 'api:3000') },
  ];
  const results = (await caller(halfCloseCalls(cases))) as HalfClosed[];
  console.log(`# half-closed callers: ${JSON.stringify(results.map((r) => ({ name: r.name, closed: r.closed, statuses: statuses(r.raw) })))}`);
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  for (const c of cases) {
    const r = byName[c.name];
    assert.ok(r, `${c.name} ran`);
    assert.ok(r.closed, `${c.name}: the gateway closed after answering (read ${JSON.stringify(r.raw.slice(0, 300))})`);
    const want = c.name.includes('pipelined') ? 3 : 1;
    assert.deepEqual(statuses(r.raw), Array(want).fill('HTTP/1.1 200'), `${c.name}: ${JSON.stringify(r.raw.slice(0, 500))}`);
    assert.doesNotMatch(r.raw, /<E[A-Z]+>/, `${c.name}: no socket error`);
  }
  for (const name of ['solo', 'solo pipelined']) assert.ok(servedBy(byName[name]!.raw).every((s) => s === 'solo'), name);
  assert.deepEqual(servedBy(byName['web (shared port)']!.raw), ['web']);
});
