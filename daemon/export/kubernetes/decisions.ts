// What the Kubernetes export does with every field the normalized project can carry. tsc forces each table to be
// complete (Record<keyof …>), so a field added to the contract without a decision here fails the build, and
// decisions.test.ts checks that every `warn` row really produces a warning.

import type { ContainerOptions, ResourceOptions } from '../../api/container-options.ts';
import type { MeshSpec, ServiceSpec } from '../../api/project.ts';

/** `mapped`: becomes part of an object (`to` says where); `warn`: no equivalent, so a warning plus an annotation. */
export type Decision = { kind: 'mapped'; to: string } | { kind: 'warn'; key: string; why: string } | { kind: 'internal'; why: string };

const mapped = (to: string): Decision => ({ kind: 'mapped', to });
/** `key`: the compose key as the user wrote it, for the warning's path. */
const warn = (key: string, why: string): Decision => ({ kind: 'warn', key, why });

export const SERVICE_DECISIONS: Record<keyof ServiceSpec, Decision> = {
  name: mapped('metadata.name and the app.kubernetes.io/name label of every object of the service'),
  image: mapped('container image'),
  build: warn('build', 'Kubernetes pulls images from a registry; without `image:` the built image has no name to pull'),
  pullPolicy: mapped('imagePullPolicy (always/never/missing); build and periodic policies are warned'),
  platform: mapped('nodeSelector kubernetes.io/os and kubernetes.io/arch'),
  command: mapped('container args'),
  entrypoint: mapped('container command'),
  environment: mapped('container env (keys an env_file already gives with the same value are left to envFrom)'),
  envFiles: mapped('one ConfigMap per env_file, referenced by envFrom'),
  ports: mapped('containerPorts, the ClusterIP Service, and per --expose a LoadBalancer/NodePort Service or an Ingress'),
  expose: mapped('containerPorts and the ClusterIP Service'),
  replicas: mapped('Deployment spec.replicas'),
  healthcheck: mapped('exec readiness/liveness probes; start_period becomes a startupProbe'),
  dependsOn: warn('depends_on', 'Kubernetes starts every pod at once; readiness probes gate traffic instead of start order'),
  restart: warn('restart', 'a Deployment always restarts its containers (restartPolicy Always)'),
  restartMaxRetries: warn('restart', 'a Deployment restarts without a retry limit (with back-off)'),
  labels: mapped('pod template annotations (values need not be valid label values); keys the API refuses are warned'),
  volumes: mapped('named volumes → PersistentVolumeClaims, anonymous and tmpfs → emptyDir; bind mounts are warned'),
  networks: warn('networks', 'pods share one flat cluster network: network isolation and aliases are lost'),
  workingDir: mapped('container workingDir'),
  user: mapped('securityContext runAsUser/runAsGroup (numeric users only)'),
  stopSignal: warn('stop_signal', 'Kubernetes stops containers with SIGTERM; use a preStop hook or change the image'),
  stopGracePeriodMs: mapped('terminationGracePeriodSeconds'),
  profiles: mapped('only the services of the active profiles are exported'),
  watch: warn('develop.watch', 'develop.watch is a local development loop'),
  mesh: mapped('x-cmesh: health → probes, rollout → rolling update, ports → Service ports; balancing keys are warned'),
  secrets: mapped('one Secret per secret, mounted at the same path with the same mode'),
  configs: mapped('one ConfigMap per config, mounted at the same path with the same mode'),
  options: mapped('see OPTION_DECISIONS'),
  position: { kind: 'internal', why: 'where warnings point' },
};

export const OPTION_DECISIONS: Record<keyof ContainerOptions, Decision> = {
  containerName: warn('container_name', 'pods get generated names; the Deployment is named after the service'),
  hostname: mapped('pod spec.hostname (a name with dots is warned)'),
  domainname: warn('domainname', 'pod subdomain needs a headless Service of that name'),
  macAddress: warn('mac_address', 'the cluster network assigns addresses'),
  capAdd: mapped('securityContext.capabilities.add'),
  capDrop: mapped('securityContext.capabilities.drop'),
  privileged: mapped('securityContext.privileged'),
  readOnly: mapped('securityContext.readOnlyRootFilesystem'),
  init: warn('init', 'Kubernetes injects no init process; add tini to the image or use shareProcessNamespace'),
  ulimits: warn('ulimits', 'Kubernetes has no per-pod ulimits'),
  sysctls: mapped('pod securityContext.sysctls'),
  tmpfs: mapped('emptyDir volumes with medium Memory and sizeLimit'),
  shmSizeBytes: mapped('an emptyDir with medium Memory mounted at /dev/shm'),
  devices: warn('devices', 'host devices need a device plugin'),
  deviceCgroupRules: warn('device_cgroup_rules', 'host devices need a device plugin'),
  dns: warn('dns', 'custom nameservers would replace cluster DNS (service names would stop resolving)'),
  dnsSearch: mapped('pod dnsConfig.searches'),
  dnsOptions: mapped('pod dnsConfig.options'),
  extraHosts: mapped('pod hostAliases (host-gateway is warned)'),
  securityOpt: mapped('no-new-privileges → allowPrivilegeEscalation: false; other options are warned'),
  networkMode: warn('network_mode', 'pods always have their own network namespace in the cluster network'),
  pid: mapped('pid: host → hostPID; other modes are warned'),
  ipc: mapped('ipc: host → hostIPC; other modes are warned'),
  uts: warn('uts', 'no UTS namespace setting in a pod spec'),
  userns: warn('userns_mode', 'user namespaces are a node feature (pod hostUsers) with other semantics'),
  cgroup: warn('cgroup', 'no cgroup namespace setting in a pod spec'),
  cgroupParent: warn('cgroup_parent', 'the kubelet owns the cgroup hierarchy'),
  groupAdd: mapped('pod securityContext.supplementalGroups (numeric groups only)'),
  logging: warn('logging', 'the cluster decides how container logs are collected'),
  stdinOpen: mapped('container stdin'),
  tty: mapped('container tty'),
  runtime: warn('runtime', 'a RuntimeClass has cluster-specific names'),
  storageOpt: warn('storage_opt', 'no per-container storage options'),
  resources: mapped('see RESOURCE_DECISIONS'),
};

export const RESOURCE_DECISIONS: Record<keyof ResourceOptions, Decision> = {
  nanoCpus: mapped('resources.limits.cpu'),
  memoryBytes: mapped('resources.limits.memory'),
  memoryReservationBytes: mapped('resources.requests.memory'),
  pidsLimit: warn('pids_limit', 'the pid limit is a kubelet setting'),
  cpuShares: warn('cpu_shares', 'use requests.cpu; shares are derived from it'),
  cpuPeriodUs: warn('cpu_period', 'the CFS period is a kubelet setting'),
  cpuQuotaUs: warn('cpu_quota', 'use limits.cpu'),
  cpuRtPeriodUs: warn('cpu_rt_period', 'no real-time scheduling settings'),
  cpuRtRuntimeUs: warn('cpu_rt_runtime', 'no real-time scheduling settings'),
  cpuset: warn('cpuset', 'CPU pinning is the kubelet CPU manager'),
  memorySwapBytes: warn('memswap_limit', 'swap is a node setting'),
  memorySwappiness: warn('mem_swappiness', 'swap is a node setting'),
  oomKillDisable: warn('oom_kill_disable', 'no OOM-kill switch'),
  oomScoreAdj: warn('oom_score_adj', 'the kubelet sets OOM scores from the QoS class'),
  blkioWeight: warn('blkio_config.weight', 'no block I/O settings'),
  blkioWeightDevice: warn('blkio_config.weight_device', 'no block I/O settings'),
  blkioDeviceReadBps: warn('blkio_config.device_read_bps', 'no block I/O settings'),
  blkioDeviceWriteBps: warn('blkio_config.device_write_bps', 'no block I/O settings'),
  blkioDeviceReadIops: warn('blkio_config.device_read_iops', 'no block I/O settings'),
  blkioDeviceWriteIops: warn('blkio_config.device_write_iops', 'no block I/O settings'),
  gpus: warn('gpus', 'GPUs are extended resources whose name depends on the device plugin (e.g. nvidia.com/gpu)'),
};

/** x-cmesh keys: what the cluster can take over and what stays a cmesh mesh feature. */
export const MESH_DECISIONS: Record<keyof MeshSpec, Decision> = {
  lb: warn('x-cmesh.lb', 'a Service balances connections itself; no strategy choice'),
  protocol: mapped('decides which published ports an Ingress may carry (http only)'),
  weights: warn('x-cmesh.weights', 'no per-pod weights behind a Service'),
  weight: warn('x-cmesh.weight', 'no per-pod weights behind a Service'),
  health: mapped('readiness probe (httpGet with a path, tcpSocket without); rise/fall → success/failure thresholds'),
  retries: warn('x-cmesh.retries', 'no retries in a plain Service (a service mesh such as Istio has them)'),
  timeouts: warn('x-cmesh.timeouts', 'no proxy timeouts in a plain Service'),
  bind: warn('x-cmesh.bind', 'the published address is chosen by the cluster'),
  hashKey: warn('x-cmesh.hash_key', 'a Service has only client-IP affinity'),
  accessLog: warn('x-cmesh.access_log', 'no access log in a plain Service'),
  rollout: mapped('Deployment RollingUpdate maxSurge, with maxUnavailable 0 (start-first)'),
  healthExplicit: { kind: 'internal', why: 'whether health is a readiness probe' },
  protocolExplicit: { kind: 'internal', why: 'with protocol' },
  eastWest: mapped('mesh: false means plain DNS to the Service, which is what the cluster gives'),
  ports: mapped('containerPorts and the ClusterIP Service'),
  policy: warn('x-cmesh.policy', 'routes, splits, rate limits, circuit breakers and faults need a service mesh or Gateway API routes'),
};
