// ContainerOptions → the fields of Docker's create body (Config and HostConfig). Pure, so each mapping is unit-tested;
// what the engine then does with them is checked from inside real containers (test/e2e/container-options.docker.test.ts).

import type Docker from 'dockerode';
import type { BlkioDeviceRate, ContainerOptions, ResourceOptions } from '../api/container-options.ts';

type HostConfig = NonNullable<Docker.ContainerCreateOptions['HostConfig']>;

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

const rates = (list: BlkioDeviceRate[] | undefined): { Path: string; Rate: number }[] | undefined =>
  list?.map((r) => ({ Path: r.path, Rate: r.rate }));

function resourceFields(r: ResourceOptions): Partial<HostConfig> {
  return defined({
    NanoCpus: r.nanoCpus,
    CpuShares: r.cpuShares,
    CpuPeriod: r.cpuPeriodUs,
    CpuQuota: r.cpuQuotaUs,
    CpuRealtimePeriod: r.cpuRtPeriodUs,
    CpuRealtimeRuntime: r.cpuRtRuntimeUs,
    CpusetCpus: r.cpuset,
    Memory: r.memoryBytes,
    MemoryReservation: r.memoryReservationBytes,
    MemorySwap: r.memorySwapBytes,
    MemorySwappiness: r.memorySwappiness,
    PidsLimit: r.pidsLimit,
    OomKillDisable: r.oomKillDisable,
    BlkioWeight: r.blkioWeight,
    BlkioWeightDevice: r.blkioWeightDevice?.map((d) => ({ Path: d.path, Weight: d.weight })),
    BlkioDeviceReadBps: rates(r.blkioDeviceReadBps),
    BlkioDeviceWriteBps: rates(r.blkioDeviceWriteBps),
    BlkioDeviceReadIOps: rates(r.blkioDeviceReadIops),
    BlkioDeviceWriteIOps: rates(r.blkioDeviceWriteIops),
    DeviceRequests: r.gpus?.map((g) =>
      defined({ Driver: g.driver ?? '', Count: g.count, DeviceIDs: g.deviceIds, Capabilities: g.capabilities, Options: g.options }),
    ),
  });
}

/** Writes the options into a create body built by createOptions(); cmesh's own HostConfig fields stay as they are. */
export function applyContainerOptions(body: Docker.ContainerCreateOptions, o: ContainerOptions): void {
  Object.assign(
    body,
    defined({
      Hostname: o.hostname,
      Domainname: o.domainname,
      MacAddress: o.macAddress,
      OpenStdin: o.stdinOpen,
      // Compose attaches stdin for stdin_open; the engine keeps it open only when StdinOnce is false.
      StdinOnce: o.stdinOpen === undefined ? undefined : false,
      Tty: o.tty,
    }),
  );
  const host: HostConfig = body.HostConfig ?? {};
  Object.assign(
    host,
    defined({
      CapAdd: o.capAdd,
      CapDrop: o.capDrop,
      Privileged: o.privileged,
      ReadonlyRootfs: o.readOnly,
      Ulimits: o.ulimits && Object.entries(o.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
      Sysctls: o.sysctls,
      Tmpfs: o.tmpfs,
      ShmSize: o.shmSizeBytes,
      Devices: o.devices?.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions })),
      DeviceCgroupRules: o.deviceCgroupRules,
      Dns: o.dns,
      DnsSearch: o.dnsSearch,
      DnsOptions: o.dnsOptions,
      ExtraHosts: o.extraHosts?.map((h) => `${h.host}:${h.ip}`),
      SecurityOpt: o.securityOpt,
      NetworkMode: o.networkMode,
      PidMode: o.pid,
      IpcMode: o.ipc,
      UTSMode: o.uts,
      UsernsMode: o.userns,
      CgroupnsMode: o.cgroup,
      CgroupParent: o.cgroupParent,
      GroupAdd: o.groupAdd,
      LogConfig: o.logging && { Type: o.logging.driver ?? '', Config: o.logging.options },
      Runtime: o.runtime,
      StorageOpt: o.storageOpt,
      VolumesFrom: o.volumesFrom,
      // Engines before API 1.43 would drop it silently; engine-compat.ts refuses it there.
      Annotations: o.annotations,
      OomScoreAdj: o.resources?.oomScoreAdj,
      ...(o.resources ? resourceFields(o.resources) : {}),
    }),
  );
  body.HostConfig = host;
}
