// Compose's per-container keys reach the engine with Compose's meaning, read back from inside real containers (or
// `docker inspect` where the kernel view is indirect): capabilities, hostname, container name, /etc/hosts, ulimits,
// tmpfs and /dev/shm sizes, sysctls, a read-only root, init off, memory/CPU/pids limits, TTY. No network traffic.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CmeshCli, newCmeshCli } from '../helpers/cmesh-cli.ts';
import { newRunId, RUN_LABEL, requireDocker, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('ctropts');
const project = runId;
const named = `${runId}-named`;
let cli: CmeshCli;

const exec = (container: string, script: string): Promise<string> => run(['exec', container, 'sh', '-c', script]);
const inspect = async (container: string): Promise<{ HostConfig: Record<string, unknown>; Config: Record<string, unknown> }> =>
  JSON.parse(await run(['inspect', container]))[0];

/** Bit n of a /proc/<pid>/status capability mask (hex). */
const hasCap = (mask: string, bit: number): boolean => ((BigInt(`0x${mask}`) >> BigInt(bit)) & 1n) === 1n;
const CAP_MKNOD = 27;
const CAP_NET_ADMIN = 12;

before(async () => {
  await requireDocker();
  cli = await newCmeshCli();
  await cli.writeCompose(
    project,
    `  app:
    image: cmesh/busybox:local
    command: ["sleep", "600"]
    container_name: ${named}
    hostname: apphost
    domainname: example.test
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    read_only: true
    init: false
    ulimits:
      nofile: { soft: 1024, hard: 2048 }
    sysctls:
      net.core.somaxconn: 1024
    tmpfs: ["/scratch:size=8m,mode=1777"]
    shm_size: 16m
    extra_hosts: ["db.local:10.254.254.254", "gw=host-gateway"]
    dns_search: [example.test]
    security_opt: ["no-new-privileges:true"]
    group_add: ["1234"]
    mem_limit: 64m
    cpus: "0.5"
    pids_limit: 64
    tty: true
    stdin_open: true
    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`,
  );
});

after(async () => {
  await cli?.teardown(project, runId);
});

test('up applies every container option; each is visible from inside the container or in inspect', async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  // container_name: the one replica carries exactly that engine name.
  const ps = await cli.ps();
  assert.deepEqual(ps.map((r) => r.name), [named]);

  assert.equal(await exec(named, 'hostname'), 'apphost');
  assert.equal(await exec(named, 'cat /proc/sys/kernel/domainname'), 'example.test');
  const hosts = await exec(named, 'cat /etc/hosts');
  assert.match(hosts, /^10\.254\.254\.254\s+db\.local$/m);
  assert.match(hosts, /^\S+\s+gw$/m, 'host-gateway resolves to an address');
  assert.match(await exec(named, 'cat /etc/resolv.conf'), /^search .*example\.test/m);

  const status = await exec(named, 'cat /proc/1/status');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '';
  assert.ok(hasCap(capEff, CAP_NET_ADMIN), `NET_ADMIN in CapEff ${capEff}`);
  assert.ok(!hasCap(capEff, CAP_MKNOD), `MKNOD dropped from CapEff ${capEff}`);
  assert.match(status, /^NoNewPrivs:\s*1$/m);
  assert.match(status, /^Groups:.*\b1234\b/m);

  // ulimits as the container's own process got them (PID 1, what cmesh started). An exec'd shell's limits are the
  // engine's exec path, not the container's: one CI run saw `ulimit -n` report 2048 there (not reproduced in 5 runs).
  assert.match(await exec(named, 'cat /proc/1/limits'), /^Max open files\s+1024\s+2048\s+files/m);
  assert.equal(await exec(named, 'cat /proc/sys/net/core/somaxconn'), '1024');
  const mounts = await exec(named, 'cat /proc/mounts');
  assert.match(mounts, /^tmpfs \/scratch tmpfs \S*size=8192k/m);
  assert.match(mounts, /^shm \/dev\/shm tmpfs \S*size=16384k/m);
  assert.match(mounts, /^overlay \/ overlay ro[,\s]/m, 'read_only root');
  assert.match(await run(['exec', named, 'sh', '-c', 'touch /x 2>&1 || echo refused']), /refused/);
  // init: false: the command itself is PID 1 (with cmesh's default it is Docker's init).
  assert.equal(await exec(named, 'cat /proc/1/comm'), 'sleep');

  const info = await inspect(named);
  assert.equal(info.HostConfig['Memory'], 64 * 1024 * 1024);
  assert.equal(info.HostConfig['NanoCpus'], 500_000_000);
  assert.equal(info.HostConfig['PidsLimit'], 64);
  assert.equal(info.Config['Tty'], true);
  assert.equal(info.Config['OpenStdin'], true);
});

test('container_name with more than one replica is refused, at load and at scale', async () => {
  const r = await cli.cmesh(['up', '-d', '--scale', 'app=2']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /container_name/);
  const s = await cli.cmesh(['scale', 'app=3']);
  assert.notEqual(s.code, 0);
  assert.match(s.stderr, /can run only one replica/);
  assert.equal((await cli.ps()).length, 1);
});
