// What the swarm target does with each key of the Compose Specification: the one decision table that translate.ts's
// named warnings read their reason from, and that the README's "Swarm" column is held to (config/compose-keys.test.ts).

/**
 * `honoured`: sent to Swarm with Compose's meaning. `partial`: honoured, and the part Swarm cannot take is a named
 * warning at `up`. `warned`: a named warning at `up` (`loader` ones are already warned by the loader, on both targets),
 * the tasks run without it. `error`: `up` refuses it.
 */
export type SwarmKeyStatus = 'honoured' | 'partial' | 'warned' | 'error';

export interface SwarmKeyDecision {
  status: SwarmKeyStatus;
  /** For `partial`/`warned`: the end of the warning message (`<service>: <key> <why>`); otherwise a note. */
  why: string;
  /** Warned by the config loader for every target (the key is outside cmesh), not by the swarm translation. */
  loader?: true;
  /** A partial key whose missing part is named under another key's warning (links → depends_on). */
  reportedAs?: string;
}

const ok = (why = ''): SwarmKeyDecision => ({ status: 'honoured', why });
const partial = (why: string): SwarmKeyDecision => ({ status: 'partial', why });
const warned = (why: string): SwarmKeyDecision => ({ status: 'warned', why });
const loader = (why: string): SwarmKeyDecision => ({ status: 'warned', why, loader: true });
/** Container options the ServiceSpec has no field for (or cmesh does not fill yet). */
const OPTION = warned('is not applied to Swarm tasks yet');

export const SWARM_TOP_LEVEL_KEYS: Readonly<Record<string, SwarmKeyDecision>> = {
  version: ok('obsolete; not used'),
  name: ok('services are named `<project>_<service>`'),
  include: ok('resolved by the loader'),
  services: ok(),
  models: loader('AI model runners are outside cmesh'),
  networks: ok('attachable overlay networks; `external` ones are joined as they are'),
  volumes: ok('created by Swarm on each node that runs a task, with `driver`, `driver_opts`, `labels`; `external` ones are used as they are; `down -v` removes this node\'s'),
  secrets: ok('Swarm secrets, named by a hash of their content'),
  configs: ok('Swarm configs, named by a hash of their content'),
};

export const SWARM_SERVICE_KEYS: Readonly<Record<string, SwarmKeyDecision>> = {
  annotations: OPTION,
  attach: ok('no foreground `up` on Swarm; `cmesh logs` shows every service'),
  blkio_config: OPTION,
  build: ok('built as for the local target and deployed by image ID (by digest through `x-cmesh.registry`)'),
  cap_add: ok('ContainerSpec `CapabilityAdd` (Engine API 1.41)'),
  cap_drop: ok('ContainerSpec `CapabilityDrop` (Engine API 1.41)'),
  cgroup: OPTION,
  cgroup_parent: OPTION,
  command: ok('ContainerSpec `Args`'),
  configs: ok('Swarm configs at `target`, with `uid`, `gid`, `mode`'),
  container_name: OPTION,
  cpu_count: loader('Windows only'),
  cpu_percent: loader('Windows only'),
  cpu_period: OPTION,
  cpu_quota: OPTION,
  cpu_rt_period: OPTION,
  cpu_rt_runtime: OPTION,
  cpu_shares: OPTION,
  cpus: ok('resource limit `NanoCPUs`'),
  cpuset: OPTION,
  credential_spec: loader('Windows only'),
  depends_on: warned('has no start order on Swarm: services start together and must retry their dependencies'),
  deploy: ok('`replicas`, `resources` as the keys they stand for, `restart_policy` (`delay`, `window` too), `update_config` `parallelism`/`order`; the rest as the local column'),
  develop: ok('`watch`: a rebuild is a start-first rolling update; `sync` actions are refused by `watch`'),
  device_cgroup_rules: OPTION,
  devices: OPTION,
  dns: ok('ContainerSpec `DNSConfig`'),
  dns_opt: ok('ContainerSpec `DNSConfig`'),
  dns_search: ok('ContainerSpec `DNSConfig`'),
  domainname: OPTION,
  entrypoint: ok('ContainerSpec `Command`'),
  env_file: ok(),
  environment: ok(),
  expose: warned('is not published on the swarm target: reach these ports over the project overlay network'),
  extends: ok('resolved by the loader'),
  external_links: OPTION,
  extra_hosts: ok('ContainerSpec `Hosts`'),
  gpus: OPTION,
  group_add: ok('ContainerSpec `Groups`'),
  healthcheck: partial('start_interval is not sent to Swarm (Engine API 1.44): checks keep their interval'),
  hostname: ok('ContainerSpec `Hostname`'),
  image: ok('pulled per `pull_policy`, deployed by image ID'),
  init: ok(),
  ipc: OPTION,
  isolation: loader('Windows only'),
  label_file: ok(),
  labels: ok('on the service and its tasks'),
  links: { ...partial('aliases become network aliases; the start order they imply is the `depends_on` warning'), reportedAs: 'depends_on' },
  logging: partial('options without a `driver` are not applied to Swarm tasks: the task log driver needs its name'),
  mac_address: OPTION,
  mem_limit: ok('resource limit `MemoryBytes`'),
  mem_reservation: ok('resource reservation `MemoryBytes`'),
  mem_swappiness: OPTION,
  memswap_limit: OPTION,
  models: loader('AI model runners are outside cmesh'),
  network_mode: OPTION,
  networks: partial('endpoint options other than aliases (addresses, MAC, priorities, driver options) are not applied to Swarm tasks'),
  oom_kill_disable: OPTION,
  oom_score_adj: OPTION,
  pid: OPTION,
  pids_limit: ok('resource limit `Pids`'),
  platform: ok('passed to the pull'),
  ports: partial('ranges publish only their first port on the swarm target'),
  post_start: warned('is not run on the swarm target: Swarm starts tasks without exec hooks'),
  pre_stop: warned('is not run on the swarm target: Swarm stops tasks without exec hooks'),
  privileged: OPTION,
  profiles: ok(),
  provider: loader('external providers are outside cmesh'),
  pull_policy: ok('as for the local target, before the deploy'),
  pull_refresh_after: ok('as for the local target, before the deploy'),
  read_only: ok('ContainerSpec `ReadOnly`'),
  restart: ok('Swarm restart condition: `no` → none, `on-failure[:N]` → on-failure, `always`/`unless-stopped` → any'),
  runtime: OPTION,
  scale: ok('replicas'),
  secrets: ok('Swarm secrets at `/run/secrets/<name>` (or `target`), with `uid`, `gid`, `mode`'),
  security_opt: OPTION,
  shm_size: OPTION,
  stdin_open: ok('ContainerSpec `OpenStdin`'),
  stop_grace_period: ok(),
  stop_signal: ok(),
  storage_opt: OPTION,
  sysctls: ok('ContainerSpec `Sysctls` (Engine API 1.40)'),
  tmpfs: partial('options other than `size`, `mode` and `ro` are not applied to Swarm tasks (Engine API 1.46)'),
  tty: ok('ContainerSpec `TTY`'),
  ulimits: ok('ContainerSpec `Ulimits` (Engine API 1.41)'),
  use_api_socket: warned('is not mounted on the swarm target: tasks get neither the engine socket nor registry credentials'),
  user: ok(),
  userns_mode: OPTION,
  uts: OPTION,
  volumes: partial('options Swarm mounts lack (Engine API 1.41) are not applied: SELinux relabel, bind `recursive` writable/readonly, volume `subpath`'),
  volumes_from: OPTION,
  working_dir: ok(),
};

/** The reason a key is warned about on the swarm target; asking for a key the table does not warn about is a bug. */
export function swarmWhy(key: string, scope: 'service' | 'top-level' = 'service'): string {
  const d = (scope === 'service' ? SWARM_SERVICE_KEYS : SWARM_TOP_LEVEL_KEYS)[key];
  if (!d || d.status === 'honoured') throw new Error(`swarm-keys: ${scope} key ${key} is not one the swarm target warns about`);
  return d.why;
}

/** The README's Swarm cell for a decision: the status, then the reason or note. */
export function swarmCell(d: SwarmKeyDecision): string {
  const why = d.loader ? `${d.why} (the loader's warning)` : d.why;
  return why === '' ? d.status : `${d.status}: ${why}`;
}
