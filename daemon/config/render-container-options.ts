// ContainerOptions back to their compose keys, for `cmesh config` (the canonical YAML shows what cmesh will apply).

import type { BlkioDeviceRate, ContainerOptions, ResourceOptions } from '../api/container-options.ts';

type Plain = Record<string, unknown>;

const rates = (l: BlkioDeviceRate[] | undefined) => l?.map((r) => ({ path: r.path, rate: r.rate }));

function renderResources(r: ResourceOptions): Plain {
  const blkio = {
    weight: r.blkioWeight,
    weight_device: r.blkioWeightDevice,
    device_read_bps: rates(r.blkioDeviceReadBps),
    device_write_bps: rates(r.blkioDeviceWriteBps),
    device_read_iops: rates(r.blkioDeviceReadIops),
    device_write_iops: rates(r.blkioDeviceWriteIops),
  };
  return {
    cpus: r.nanoCpus === undefined ? undefined : r.nanoCpus / 1e9,
    cpu_shares: r.cpuShares,
    cpu_period: r.cpuPeriodUs,
    cpu_quota: r.cpuQuotaUs,
    cpu_rt_period: r.cpuRtPeriodUs,
    cpu_rt_runtime: r.cpuRtRuntimeUs,
    cpuset: r.cpuset,
    mem_limit: r.memoryBytes,
    mem_reservation: r.memoryReservationBytes,
    memswap_limit: r.memorySwapBytes,
    mem_swappiness: r.memorySwappiness,
    pids_limit: r.pidsLimit,
    oom_kill_disable: r.oomKillDisable,
    oom_score_adj: r.oomScoreAdj,
    blkio_config: Object.values(blkio).some((v) => v !== undefined) ? blkio : undefined,
    gpus: r.gpus?.map((g) => ({ driver: g.driver, count: g.count, device_ids: g.deviceIds, capabilities: g.capabilities.flat(), options: g.options })),
  };
}

/** Compose keys → values (undefined where unset; the caller compacts). */
export function renderContainerOptions(o: ContainerOptions | undefined): Plain {
  if (o === undefined) return {};
  return {
    container_name: o.containerName,
    hostname: o.hostname,
    domainname: o.domainname,
    mac_address: o.macAddress,
    cap_add: o.capAdd,
    cap_drop: o.capDrop,
    privileged: o.privileged,
    read_only: o.readOnly,
    init: o.init,
    ulimits: o.ulimits,
    sysctls: o.sysctls,
    tmpfs: o.tmpfs && Object.entries(o.tmpfs).map(([path, opts]) => (opts === '' ? path : `${path}:${opts}`)),
    shm_size: o.shmSizeBytes,
    devices: o.devices?.map((d) => `${d.source}:${d.target}:${d.permissions}`),
    device_cgroup_rules: o.deviceCgroupRules,
    dns: o.dns,
    dns_search: o.dnsSearch,
    dns_opt: o.dnsOptions,
    extra_hosts: o.extraHosts?.map((h) => `${h.host}=${h.ip}`),
    security_opt: o.securityOpt,
    network_mode: o.networkMode,
    pid: o.pid,
    ipc: o.ipc,
    uts: o.uts,
    userns_mode: o.userns,
    cgroup: o.cgroup,
    cgroup_parent: o.cgroupParent,
    group_add: o.groupAdd,
    logging: o.logging,
    stdin_open: o.stdinOpen,
    tty: o.tty,
    runtime: o.runtime,
    storage_opt: o.storageOpt,
    annotations: o.annotations,
    volumes_from: o.volumesFrom,
    external_links: o.externalLinks,
    ...(o.resources ? renderResources(o.resources) : {}),
  };
}
