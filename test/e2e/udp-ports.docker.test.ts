// Published UDP ports end to end (issue #14): the real CLI and daemon, the real engine, 2 replicas of a node UDP echo
// behind one published UDP port owned by the daemon's forwarder. Echoes with per-client affinity, scale 2→1 while
// clients keep sending (the port keeps answering), and `down` releasing the port. Traffic only to 127.0.0.1.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import type { DaemonInfo, ServiceTableRow } from '../../daemon/api/control.ts';
import { type CmeshCli, newCmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, requireDocker, dockerTestFile } from '../helpers/docker.ts';
import { freeUdpPort, udpPortFree } from '../helpers/free-port.ts';
import { serviceLabels } from '../helpers/echo-project.ts';
import { assertReached, expectedReach } from '../helpers/replica-reach.ts';

await dockerTestFile();

const runId = newRunId('udp');
const project = runId;
const TARGET = 5353;
// Answers `<hostname>:<payload>`: the hostname (the container's short id) says which replica answered.
const ECHO = `const s = require('node:dgram').createSocket('udp4'); const me = require('node:os').hostname();
s.on('message', (m, r) => s.send(me + ':' + m, r.port, r.address)); s.bind(${TARGET});
process.on('SIGTERM', () => s.close(() => process.exit(0)));`;

let cli: CmeshCli | undefined;
let port = 0;
const clients: dgram.Socket[] = [];

/** A client with its own source port; `ask` sends one datagram and resolves with the reply, or undefined on timeout. */
async function newClient() {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  clients.push(socket);
  const ask = async (text: string, timeoutMs = 1000): Promise<{ replica: string; payload: string } | undefined> => {
    const reply = once(socket, 'message', { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
    socket.send(text, port, '127.0.0.1');
    const got = (await reply) as [Buffer] | undefined;
    if (!got) return undefined;
    const [replica = '', payload = ''] = got[0].toString().split(/:(.*)/s);
    return { replica, payload };
  };
  return { ask };
}

/** One sample of the daemon's scrape for the dns service, e.g. cmesh_udp_datagrams_total with direction="in". */
async function metric(name: string, extra = ''): Promise<number> {
  const info = JSON.parse((await cli!.ok(['daemon', 'status', '--json'])).stdout) as DaemonInfo;
  assert.ok(info.metrics && 'url' in info.metrics, JSON.stringify(info.metrics));
  const text = await (await fetch(info.metrics.url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{project="${project}",service="dns"${extra}} `));
  assert.ok(line, `${name} for dns in the scrape`);
  return Number(line.split(' ')[1]);
}

async function dns(): Promise<ServiceTableRow> {
  const rows = JSON.parse((await cli!.ok(['services', '--json'])).stdout) as ServiceTableRow[];
  const row = rows.find((s) => s.service === 'dns');
  assert.ok(row, 'dns is in the service table');
  return row;
}

before(async () => {
  await requireDocker();
  await ensureBaseImages();
  cli = await newCmeshCli();
  port = await freeUdpPort();
  const service = [
    '  dns:',
    '    image: cmesh/node:local',
    `    command: ${JSON.stringify(['node', '-e', ECHO])}`,
    `    ports: ["127.0.0.1:${port}:${TARGET}/udp"]`,
    '    deploy: { replicas: 2 }',
    '    stop_grace_period: 2s',
    '    x-cmesh: { lb: round-robin }',
  ].join('\n');
  await cli.writeCompose(project, `${service}\n${serviceLabels(runId)}`);
});

after(async () => {
  for (const c of clients) c.close();
  await cli?.teardown(project, runId);
});

test('up: the daemon owns the UDP port; 2 replicas echo, each client stays on one replica', async () => {
  await cli!.ok(['up', '-d', '--wait', '--timeout', '60']);
  const ps = (await cli!.ps()).filter((r) => r.service === 'dns');
  assert.equal(ps.length, 2);
  // The containers are reached at their own addresses (or engine-assigned loopback ports); the published one is the daemon's.
  const reach = await expectedReach();
  for (const r of ps) {
    assertReached(reach, r.endpoints, r.name);
    assert.ok(r.endpoints.every((e) => e.direct === true || e.hostPort !== port), `${r.name} does not publish ${port}`);
  }
  const row = await until('2 ready dns replicas', 20_000, async () => ((await dns()).ready === 2 ? dns() : undefined), 200);
  assert.deepEqual(row.publishedPorts, [{ published: port, target: TARGET, hostIp: '127.0.0.1', protocol: 'udp' }]);
  const seen = new Set<string>();
  for (let c = 0; c < 4; c++) {
    const client = await newClient();
    const mine = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await client.ask(`c${c}-${i}`, 3000);
      assert.ok(r, `client ${c} datagram ${i} was echoed`);
      assert.equal(r.payload, `c${c}-${i}`);
      mine.add(r.replica);
    }
    assert.equal(mine.size, 1, `client ${c} stayed on one replica: ${[...mine]}`);
    seen.add([...mine][0]!);
  }
  // Round-robin over sessions: 4 clients land on both replicas.
  assert.equal(seen.size, 2, `replicas that answered: ${[...seen]}`);
  const table = await cli!.ok(['services']);
  assert.match(table.stdout, new RegExp(`^dns +127\\.0\\.0\\.1:${port}->${TARGET}/udp +round-robin +2/2`, 'm'));
  assert.equal((await cli!.ok(['port', '--protocol', 'udp', 'dns', String(TARGET)])).stdout.trim(), `127.0.0.1:${port}`);
});

test('scale 2→1 while clients keep sending: the port keeps answering, sessions move to the remaining replica', async () => {
  const inBefore = await metric('cmesh_udp_datagrams_total', ',direction="in"');
  assert.ok(inBefore >= 20, `the first test's datagrams are counted: ${inBefore}`);
  const senders = await Promise.all([newClient(), newClient(), newClient(), newClient()]);
  for (const s of senders) assert.ok(await s.ask('hello', 3000), 'echoed before the scale');
  let stop = false;
  let sent = 0;
  let lost = 0;
  // Bounded: at most 60 s or 2000 datagrams per client, one in flight at a time.
  const loops = senders.map(async (s, i) => {
    const deadline = Date.now() + 60_000;
    for (let n = 0; !stop && n < 2000 && Date.now() < deadline; n++) {
      sent++;
      if (!(await s.ask(`s${i}-${n}`))) lost++;
      await sleep(20);
    }
  });
  await sleep(500);
  await cli!.ok(['scale', 'dns=1']);
  await until('1 dns replica', 30_000, async () => ((await cli!.ps()).filter((r) => r.service === 'dns').length === 1 ? true : undefined), 200);
  await sleep(1000);
  stop = true;
  await Promise.all(loops);
  console.log(`# scale 2→1 under traffic: ${sent} datagrams, ${lost} unanswered`);
  // A datagram in flight while its replica's container stopped may be lost (UDP); the port itself never went away.
  assert.ok(sent > 100, 'the clients kept sending');
  assert.ok(lost <= 4, `${lost} of ${sent} datagrams unanswered`);
  const [survivor] = (await cli!.ps()).filter((r) => r.service === 'dns');
  assert.ok(survivor);
  for (const s of senders) {
    const r = await s.ask('after', 3000);
    assert.ok(r, 'every client is answered after the scale');
    assert.ok(survivor.container.startsWith(r.replica), `answered by the remaining replica ${survivor.name}`);
  }
  assert.equal((await dns()).ready, 1);
  // The forwarder's counters run from its bind: still counting from `up` means scaling never re-bound the port.
  assert.ok((await metric('cmesh_udp_datagrams_total', ',direction="in"')) >= inBefore + sent + 8);
  assert.ok((await metric('cmesh_udp_datagrams_total', ',direction="out"')) >= inBefore + sent - lost + 8);
  const moved = await metric('cmesh_udp_session_ends_total', ',reason="moved"');
  console.log(`# sessions moved off the removed replica: ${moved}`);
  assert.ok(moved >= 1, 'the sessions of the removed replica moved');
});

test('down releases the UDP port', async () => {
  assert.equal(await udpPortFree(port), false, 'held while the project is up');
  await cli!.ok(['down']);
  await until('the port to be free', 10_000, async () => ((await udpPortFree(port)) ? true : undefined), 100);
});
