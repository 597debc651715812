// Which compose keys cmesh reads, which it knowingly ignores (warning), and the enums it validates.

const set = (...keys: string[]): ReadonlySet<string> => new Set(keys);

/** `include` (and a service's `extends`) are resolved before normalization, see compose-files.ts. */
export const TOP_LEVEL_KEYS = set('version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'include');
export const TOP_LEVEL_UNSUPPORTED = set('models');

export const SERVICE_KEYS = set(
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'deploy', 'scale',
  'healthcheck', 'depends_on', 'restart', 'labels', 'volumes', 'networks', 'working_dir', 'user', 'stop_signal',
  'stop_grace_period', 'profiles', 'develop', 'secrets', 'configs', 'pull_policy', 'platform', 'extends',
  // Container options (normalize/container-options.ts, container-resources.ts).
  'blkio_config', 'cap_add', 'cap_drop', 'cgroup', 'cgroup_parent', 'container_name', 'cpu_period', 'cpu_quota',
  'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'cpus', 'cpuset', 'device_cgroup_rules', 'devices', 'dns', 'dns_opt',
  'dns_search', 'domainname', 'extra_hosts', 'gpus', 'group_add', 'hostname', 'init', 'ipc', 'logging', 'mac_address',
  'mem_limit', 'mem_reservation', 'mem_swappiness', 'memswap_limit', 'oom_kill_disable', 'oom_score_adj', 'pid',
  'pids_limit', 'privileged', 'read_only', 'runtime', 'security_opt', 'shm_size', 'stdin_open', 'storage_opt', 'sysctls',
  'tmpfs', 'tty', 'ulimits', 'userns_mode', 'uts', 'network_mode',
  // Neighbours (normalize/service-links.ts).
  'volumes_from', 'links', 'external_links', 'annotations', 'label_file', 'attach', 'use_api_socket',
);

/** Everything else the Compose spec defines for a service. */
export const SERVICE_UNSUPPORTED = set(
  'cpu_count', 'cpu_percent', 'credential_spec',
  'isolation', 'models', 'post_start', 'pre_stop', 'provider',
  'pull_refresh_after',
);

export const BUILD_KEYS = set('context', 'dockerfile', 'dockerfile_inline', 'args', 'target', 'labels', 'no_cache');
export const BUILD_UNSUPPORTED = set(
  'additional_contexts', 'cache_from', 'cache_to', 'entitlements', 'extra_hosts', 'isolation',
  'network', 'platforms', 'privileged', 'pull', 'secrets', 'shm_size', 'ssh', 'tags', 'ulimits',
);

export const DEPLOY_KEYS = set('replicas', 'resources');
export const DEPLOY_UNSUPPORTED = set('mode', 'endpoint_mode', 'labels', 'placement', 'restart_policy', 'rollback_config', 'update_config');

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
export const WATCH_KEYS = set('action', 'path', 'target', 'ignore');
export const WATCH_UNSUPPORTED = set('include', 'exec', 'initial_sync');

export const RESTART_VALUES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;
export const DEPENDS_CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'] as const;
export const WATCH_ACTIONS = ['sync', 'rebuild', 'sync+restart', 'restart', 'sync+exec'] as const;
export const LB_STRATEGIES = ['round-robin', 'random', 'weighted', 'p2c', 'ewma', 'ring-hash'] as const;
export const PROTOCOLS = ['http', 'tcp'] as const;

/** Compose's rule for service names. */
export const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
