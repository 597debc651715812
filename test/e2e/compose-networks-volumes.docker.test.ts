// Networks, volumes and their options reach the engine with Compose's meaning, read back from inside the containers or
// `docker inspect`: a static IPv4 on an ipam subnet, a MAC on the first network, network driver_opts (MTU), volume
// driver_opts, tmpfs size and mode, nocopy, read-only and propagation, created bind paths, volumes_from,
// use_api_socket, links and external_links; and the keys Engine API 1.41 cannot apply fail `up` naming the key and
// the engine version. Traffic: DNS lookups against the test network's embedded resolver, nothing else.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../daemon/api/errors.ts';
import { apiBelow } from '../../daemon/engine-compat.ts';
import { type CmeshCli, newCmeshCli } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('netvol');
const project = runId;
/** A /24 of 10.213.0.0/16 picked per run, so parallel runs (and other projects) are unlikely to collide. */
const octet = 100 + (Number.parseInt(runId.replace(/\D/g, '').slice(-4) || '0', 10) % 150);
const subnet = `10.213.${octet}.0/24`;
const staticIp = `10.213.${octet}.10`;
const app = `${project}-app-1`;
/** Locally administered, so it cannot clash with a real NIC. */
const mac = `02:42:0a:d5:${octet.toString(16).padStart(2, '0')}:20`;
const reader = `${project}-reader-1`;
let cli: CmeshCli;
let apiVersion = '';

const labels = `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;
const exec = (container: string, script: string): Promise<string> => run(['exec', container, 'sh', '-c', script]);
// biome-ignore lint/suspicious/noExplicitAny: docker inspect JSON, read field by field below
const inspect = async (kind: string, name: string): Promise<any> => JSON.parse(await run([kind, 'inspect', name]))[0];

before(async () => {
  await requireDocker();
  apiVersion = (await run(['version', '--format', '{{.Server.APIVersion}}'])).trim();
  cli = await newCmeshCli();
  await mkdir(join(cli.work, 'host-ro'));
  await writeFile(join(cli.work, 'host-ro', 'hello.txt'), 'from the host\n');
  await cli.writeCompose(
    project,
    `  app:
    image: cmesh/busybox:local
    command: ["sh", "-c", "echo shared > /data/from-app && sleep 600"]
    stop_grace_period: 1s
    networks:
      net:
        ipv4_address: ${staticIp}
    volumes:
      - type: tmpfs
        target: /scratch
        tmpfs: { size: 4m, mode: 1770 }
      - type: volume
        source: data
        target: /data
        volume: { nocopy: true }
      - type: bind
        source: ./host-ro
        target: /host-ro
        read_only: true
        bind: { propagation: rprivate }
      - ./made-by-up:/made:z
      - type: bind
        source: ./host-ro
        target: /host-nr
        bind: { recursive: disabled, create_host_path: false }
${labels}  reader:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    stop_grace_period: 1s
    volumes_from: ["app:ro"]
    links: ["app:appalias"]
    networks:
      net: { mac_address: "${mac}" }
${labels}  tool:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    stop_grace_period: 1s
    use_api_socket: true
    external_links: ["${app}:legacyapp"]
    networks: [net]
${labels}networks:
  net:
    driver_opts:
      com.docker.network.driver.mtu: "1400"
    ipam:
      config:
        - subnet: ${subnet}
volumes:
  data:
    driver_opts: { type: tmpfs, device: tmpfs, o: "size=2m" }
`,
  );
});

after(async () => {
  await cli?.teardown(project, runId);
});

test('up applies network, endpoint, volume and mount options; each is visible inside or in inspect', async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);

  // Static address on the ipam subnet, and the network's MTU driver option, seen from inside and in inspect.
  const netName = `${project}_net`;
  const net = await inspect('network', netName);
  assert.equal(net.IPAM.Config[0].Subnet, subnet);
  assert.equal(net.Options['com.docker.network.driver.mtu'], '1400');
  assert.match(await exec(app, 'ip -4 addr show eth0'), new RegExp(`inet ${staticIp.replaceAll('.', '\\.')}/24`));
  assert.equal(await exec(app, 'cat /sys/class/net/eth0/mtu'), '1400');
  const appInfo = await inspect('container', app);
  assert.equal(appInfo.NetworkSettings.Networks[netName].IPAMConfig.IPv4Address, staticIp);

  // tmpfs size and mode, and the volume's own driver_opts (a 2 MiB tmpfs), in /proc/mounts.
  const mounts = await exec(app, 'cat /proc/mounts');
  assert.match(mounts, /^tmpfs \/scratch tmpfs \S*size=4096k\S*mode=1770/m);
  assert.match(mounts, /^tmpfs \/data tmpfs \S*size=2048k/m);
  const vol = await inspect('volume', `${project}_data`);
  assert.deepEqual(vol.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' });

  // nocopy, read-only and propagation as the engine recorded them; the short-syntax bind's host path was created.
  const byTarget = (t: string) => appInfo.Mounts.find((m: { Destination: string }) => m.Destination === t);
  const dataMount = appInfo.HostConfig.Mounts.find((m: { Target: string }) => m.Target === '/data');
  assert.equal(dataMount.VolumeOptions.NoCopy, true);
  assert.equal(byTarget('/host-ro').RW, false);
  assert.equal(byTarget('/host-ro').Propagation, 'rprivate');
  assert.equal(await exec(app, 'cat /host-ro/hello.txt'), 'from the host');
  // recursive: disabled (Mounts API, no create) works on API 1.41.
  const nonRecursive = appInfo.HostConfig.Mounts.find((m: { Target: string }) => m.Target === '/host-nr');
  assert.equal(nonRecursive.BindOptions.NonRecursive, true);
  assert.equal(await exec(app, 'cat /host-nr/hello.txt'), 'from the host');
  assert.ok(appInfo.HostConfig.Binds.some((b: string) => b.endsWith(':/made:rw,z')), JSON.stringify(appInfo.HostConfig.Binds));
  assert.ok(existsSync(join(cli.work, 'made-by-up')), 'create_host_path (short syntax) made the host directory');

  // volumes_from: the reader sees what app wrote into the shared volume, read-only.
  assert.equal(await exec(reader, 'cat /data/from-app'), 'shared');
  assert.match(await run(['exec', reader, 'sh', '-c', 'touch /data/x 2>&1 || echo refused']), /refused/);
  const readerInfo = await inspect('container', reader);
  // use_api_socket: the engine's socket is inside the container.
  assert.equal(await exec(`${project}-tool-1`, `test -S /var/run/docker.sock && echo socket`), 'socket');
  // links: the alias names app on the shared network; external_links: a legacy link resolved by that container only.
  const resolves = (c: string, name: string) => exec(c, `nslookup ${name} 127.0.0.11 2>&1 | grep -A2 'Name:' || true`);
  assert.match(await resolves(`${project}-tool-1`, 'appalias'), new RegExp(staticIp.replaceAll('.', '\\.')));
  assert.match(await resolves(`${project}-tool-1`, 'legacyapp'), new RegExp(staticIp.replaceAll('.', '\\.')));
  assert.doesNotMatch(await resolves(reader, 'legacyapp'), new RegExp(staticIp.replaceAll('.', '\\.')));
  // mac_address on the service's first network: the container config carries it, which Engine API 1.41 honours.
  assert.equal(await exec(reader, 'cat /sys/class/net/eth0/address'), mac);
  assert.deepEqual(readerInfo.HostConfig.VolumesFrom, [`${app}:ro`]);
});

test('create_host_path: false leaves a missing host path missing: up fails with CMESH_E_VOLUME_PATH', async () => {
  const missing = join(cli.work, 'never-created');
  await writeFile(
    join(cli.work, 'nocreate.yaml'),
    `name: ${project}-nc\nservices:\n  a:\n    image: cmesh/busybox:local\n    command: ["sleep", "60"]\n    volumes:\n      - {type: bind, source: ./never-created, target: /n, bind: {create_host_path: false}}\n${labels}`,
  );
  try {
    const r = await cli.cmesh(['-f', 'nocreate.yaml', 'up', '-d']);
    assert.equal(r.code, ExitCode.config, r.stderr);
    assert.match(r.stderr, /CMESH_E_VOLUME_PATH/);
    assert.ok(!existsSync(missing));
  } finally {
    await cli.cmesh(['-f', 'nocreate.yaml', 'down'], 60_000);
  }
});

const tooNew: [string, string, string, RegExp][] = [
  ['subpath', '1.45', '    volumes:\n      - {type: volume, source: d, target: /d, volume: {subpath: sub}}\n', /volumes\[0\]\.volume\.subpath needs Engine API 1\.45/],
  ['mac_address', '1.44', '    networks:\n      n: {}\n      o: {mac_address: "02:42:ac:11:00:99"}\n', /networks\.o\.mac_address needs Engine API 1\.44/],
];

for (const [key, needs, yaml, message] of tooNew) {
  test(`${key} on an engine below API ${needs}: up fails naming the key and both versions, nothing is created`, async (t) => {
    const name = `${project}-${key.replace('_', '')}`;
    const file = `${key}.yaml`;
    await writeFile(
      join(cli.work, file),
      `name: ${name}\nservices:\n  a:\n    image: cmesh/busybox:local\n    command: ["sleep", "60"]\n    stop_grace_period: 1s\n${yaml}${labels}networks:\n  n: {}\n  o: {}\nvolumes:\n  d: {}\n`,
    );
    t.after(() => cli.cmesh(['-f', file, 'down', '-v'], 60_000).then(() => undefined));
    const r = await cli.cmesh(['-f', file, 'up', '-d']);
    if (!apiBelow(apiVersion, needs)) {
      // A newer engine applies the key: the up succeeds (this suite's target engine is 20.10, API 1.41).
      assert.equal(r.code, 0, r.stderr);
      return;
    }
    assert.equal(r.code, ExitCode.config, r.stderr);
    assert.match(r.stderr, /CMESH_E_ENGINE_UNSUPPORTED/);
    assert.match(r.stderr, message);
    assert.match(r.stderr, new RegExp(`this engine speaks ${apiVersion.replace('.', '\\.')}`));
    assert.equal((await run(['ps', '-aq', '--filter', `label=dev.cmesh.project=${name}`])).trim(), '');
  });
}
