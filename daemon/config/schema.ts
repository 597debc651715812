// Which compose keys cmesh reads, which it knowingly ignores (warning), and the enums it validates.

const set = (...keys: string[]): ReadonlySet<string> => new Set(keys);

/** `include` (and a service's `extends`) are resolved before normalization, see compose-files.ts. */
export const TOP_LEVEL_KEYS = set('version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'include');
export const TOP_LEVEL_UNSUPPORTED = set('models');

export const SERVICE_KEYS = set(
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'deploy', 'scale',
  'healthcheck', 'depends_on', 'restart', 'labels', 'volumes', 'networks', 'working_dir', 'user', 'stop_signal',
  'stop_grace_period', 'profiles', 'develop', 'secrets', 'configs', 'pull_policy', 'pull_refresh_after', 'platform', 'extends',
  // Container options (normalize/container-options.ts, container-resources.ts).
  'blkio_config', 'cap_add', 'cap_drop', 'cgroup', 'cgroup_parent', 'container_name', 'cpu_period', 'cpu_quota',
  'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'cpus', 'cpuset', 'device_cgroup_rules', 'devices', 'dns', 'dns_opt',
  'dns_search', 'domainname', 'extra_hosts', 'gpus', 'group_add', 'hostname', 'init', 'ipc', 'logging', 'mac_address',
  'mem_limit', 'mem_reservation', 'mem_swappiness', 'memswap_limit', 'oom_kill_disable', 'oom_score_adj', 'pid',
  'pids_limit', 'privileged', 'read_only', 'runtime', 'security_opt', 'shm_size', 'stdin_open', 'storage_opt', 'sysctls',
  'tmpfs', 'tty', 'ulimits', 'userns_mode', 'uts', 'network_mode',
  // Lifecycle hooks, run through the exec API like Compose v2 (normalize/lifecycle-hooks.ts).
  'post_start', 'pre_stop',
  // Neighbours (normalize/service-links.ts).
  'volumes_from', 'links', 'external_links', 'annotations', 'label_file', 'attach', 'use_api_socket',
);

/** Everything else the Compose spec defines for a service. */
export const SERVICE_UNSUPPORTED = set(
  'cpu_count', 'cpu_percent', 'credential_spec',
  'isolation', 'models', 'provider',
);

export const BUILD_KEYS = set(
  'context', 'dockerfile', 'dockerfile_inline', 'args', 'target', 'labels', 'no_cache',
  'extra_hosts', 'network', 'shm_size', 'ulimits', 'pull', 'tags', 'cache_from', 'platforms',
  // BuildKit only: read so that normalize/build.ts can refuse or warn like Compose with the classic builder.
  'additional_contexts', 'cache_to', 'entitlements', 'privileged', 'secrets', 'ssh',
);
/** Windows containers only. */
export const BUILD_UNSUPPORTED = set('isolation');

/** `labels`, `endpoint_mode`, `placement` and `rollback_config` are read to give a named Swarm-only warning (deploy.ts). */
export const DEPLOY_KEYS = set('replicas', 'resources', 'restart_policy', 'mode', 'update_config', 'labels', 'endpoint_mode', 'placement', 'rollback_config');
export const DEPLOY_UNSUPPORTED = set();
export const DEPLOY_MODES = ['replicated', 'global', 'replicated-job', 'global-job'] as const;
export const RESTART_POLICY_KEYS = set('condition', 'delay', 'max_attempts', 'window');
export const RESTART_CONDITIONS = ['none', 'on-failure', 'any'] as const;
/** delay, monitor, max_failure_ratio: accepted with a warning that says why they do not apply (deploy.ts). */
export const UPDATE_CONFIG_KEYS = set('parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order');
export const UPDATE_ORDERS = ['start-first', 'stop-first'] as const;

export const LIFECYCLE_HOOK_KEYS = set('command', 'user', 'privileged', 'working_dir', 'environment');
export const HEALTHCHECK_KEYS = set('test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable');
export const DEPENDS_ON_KEYS = set('condition', 'restart', 'required');
export const PORT_KEYS = set('target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol');
export const VOLUME_MOUNT_KEYS = set('type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency');
export const SERVICE_NETWORK_KEYS = set('aliases', 'ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'driver_opts', 'priority', 'gw_priority', 'interface_name');
export const NETWORK_KEYS = set('name', 'external', 'driver', 'internal', 'labels', 'attachable', 'driver_opts', 'enable_ipv4', 'enable_ipv6', 'ipam');
export const IPAM_KEYS = set('driver', 'config', 'options');
export const IPAM_POOL_KEYS = set('subnet', 'ip_range', 'gateway', 'aux_addresses');
export const VOLUME_KEYS = set('name', 'external', 'driver', 'labels', 'driver_opts');
export const DEVELOP_KEYS = set('watch');
export const WATCH_KEYS = set('action', 'path', 'target', 'ignore', 'include', 'initial_sync', 'exec');
export const WATCH_UNSUPPORTED = set();

export const RESTART_VALUES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;
export const DEPENDS_CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'] as const;
export const WATCH_ACTIONS = ['sync', 'rebuild', 'sync+restart', 'restart', 'sync+exec'] as const;
export const LB_STRATEGIES = ['round-robin', 'random', 'weighted', 'p2c', 'ewma', 'ring-hash'] as const;
/** `h2c` (alias `grpc`) is HTTP whose replicas speak HTTP/2 in clear: MeshSpec `protocol: 'http'`, `upstream: 'h2c'`. */
export const PROTOCOLS = ['http', 'tcp', 'h2c', 'grpc'] as const;

/** Compose's rule for service names. */
export const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
