// One Deployment per compose service: the container (image, command, env, ports, probes, resources, security
// context, mounts) and the pod around it (hostname, volumes, grace period, DNS, host aliases, platform).

import { Deployment } from 'kubernetes-models/apps/v1';
import type { IContainer, IEnvFromSource, IEnvVar, IPodSpec, ISecurityContext, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { ProjectSpec, ServiceSpec } from '../../api/project.ts';
import type { Findings } from './findings.ts';
import { bytesQuantity, cpuQuantity, escapeExpansion, kubeName, seconds, selectorLabels } from './names.ts';
import { probesFor } from './probes.ts';
import { containerPorts } from './service.ts';

export interface PodParts {
  env: IEnvVar[];
  envFrom: IEnvFromSource[];
  volumes: IVolume[];
  mounts: IVolumeMount[];
}

const PULL: Record<string, 'Always' | 'Never' | 'IfNotPresent'> = { always: 'Always', never: 'Never', missing: 'IfNotPresent' };
const NUMERIC = /^\d+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// An annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
const ANNOTATION_KEY = /^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Compose labels and annotations as pod annotations; a key the API would refuse is warned instead. */
function annotationsOf(service: ServiceSpec, findings: Findings): Record<string, string> {
  const out: Record<string, string> = {};
  // Compose `annotations` are the container's OCI annotations: the pod's are the nearest place, beside the labels.
  for (const [key, entries] of [['labels', service.labels], ['annotations', service.options?.annotations ?? {}]] as const) {
    for (const [k, v] of Object.entries(entries)) {
      if (ANNOTATION_KEY.test(k)) out[k] = v;
      else findings.warn(service, key, `${key === 'labels' ? 'label' : 'annotation'} "${k}" is not a valid Kubernetes annotation key`);
    }
  }
  return out;
}

function pullPolicy(service: ServiceSpec, findings: Findings): Pick<IContainer, 'imagePullPolicy'> {
  const p = service.pullPolicy;
  if (p === undefined) return {};
  const mapped = PULL[p];
  if (mapped !== undefined) return { imagePullPolicy: mapped };
  findings.warn(service, 'pull_policy', `pull_policy ${p} has no imagePullPolicy equivalent (the cluster's default applies)`);
  return {};
}

function securityContext(service: ServiceSpec, findings: Findings): ISecurityContext | undefined {
  const o = service.options ?? {};
  const sc: ISecurityContext = {};
  if (service.user !== undefined) {
    const [user = '', group] = service.user.split(':');
    if (NUMERIC.test(user) && (group === undefined || NUMERIC.test(group))) {
      sc.runAsUser = Number(user);
      if (group !== undefined) sc.runAsGroup = Number(group);
    } else findings.warn(service, 'user', `user "${service.user}" is a name: runAsUser needs a numeric uid (look it up in the image)`);
  }
  // Compose accepts CAP_NET_ADMIN and NET_ADMIN; Kubernetes wants the bare name.
  const caps = (list: string[] | undefined) => list?.map((c) => c.replace(/^CAP_/i, '').toUpperCase());
  const add = caps(o.capAdd);
  const drop = caps(o.capDrop);
  if (add !== undefined || drop !== undefined) sc.capabilities = { ...(add ? { add } : {}), ...(drop ? { drop } : {}) };
  if (o.privileged !== undefined) sc.privileged = o.privileged;
  if (o.readOnly !== undefined) sc.readOnlyRootFilesystem = o.readOnly;
  (o.securityOpt ?? []).forEach((opt, i) => {
    if (/^no-new-privileges(:true|=true)?$/.test(opt)) sc.allowPrivilegeEscalation = false;
    else findings.warn(service, `security_opt[${i}]`, `security_opt "${opt}" has no securityContext equivalent here`);
  });
  return Object.keys(sc).length > 0 ? sc : undefined;
}

function resources(service: ServiceSpec): IContainer['resources'] {
  const r = service.options?.resources;
  if (r === undefined) return undefined;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (r.nanoCpus !== undefined) limits['cpu'] = cpuQuantity(r.nanoCpus);
  if (r.memoryBytes !== undefined) limits['memory'] = bytesQuantity(r.memoryBytes);
  if (r.memoryReservationBytes !== undefined) requests['memory'] = bytesQuantity(r.memoryReservationBytes);
  const out = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
  return Object.keys(out).length > 0 ? out : undefined;
}

function container(service: ServiceSpec, project: ProjectSpec, parts: PodParts, findings: Findings): IContainer {
  const o = service.options ?? {};
  const ports = containerPorts(service);
  const sc = securityContext(service, findings);
  const res = resources(service);
  return {
    name: kubeName(service.name),
    // Compose names a built image without `image:` <project>-<service>; the warning says it must be pushed under a name.
    image: service.image ?? `${kubeName(project.name)}-${kubeName(service.name)}`,
    ...pullPolicy(service, findings),
    ...(service.entrypoint !== undefined ? { command: service.entrypoint.map(escapeExpansion) } : {}),
    ...(service.command !== undefined ? { args: service.command.map(escapeExpansion) } : {}),
    ...(service.workingDir !== undefined ? { workingDir: service.workingDir } : {}),
    ...(parts.env.length > 0 ? { env: parts.env } : {}),
    ...(parts.envFrom.length > 0 ? { envFrom: parts.envFrom } : {}),
    ...(ports.length > 0 ? { ports: ports.map(({ port, protocol }) => ({ containerPort: port, protocol })) } : {}),
    ...probesFor(service, findings),
    ...(res !== undefined ? { resources: res } : {}),
    ...(sc !== undefined ? { securityContext: sc } : {}),
    ...(parts.mounts.length > 0 ? { volumeMounts: parts.mounts } : {}),
    ...(o.tty !== undefined ? { tty: o.tty } : {}),
    ...(o.stdinOpen !== undefined ? { stdin: o.stdinOpen } : {}),
    ...lifecycleHooks(service, findings),
  };
}

/**
 * post_start / pre_stop → the container's lifecycle exec handlers. Kubernetes takes one command per handler and no
 * user, working directory or environment of its own, so only a single plain hook carries over; the rest is warned.
 */
function lifecycleHooks(service: ServiceSpec, findings: Findings): Pick<IContainer, 'lifecycle'> {
  const lifecycle: NonNullable<IContainer['lifecycle']> = {};
  for (const [field, key, handler] of [['postStart', 'post_start', 'postStart'], ['preStop', 'pre_stop', 'preStop']] as const) {
    const hooks = service[field];
    if (hooks === undefined || hooks.length === 0) continue;
    const [hook] = hooks;
    const plain = hooks.length === 1 && hook !== undefined && hook.user === undefined && hook.workingDir === undefined && !hook.privileged && Object.keys(hook.environment).length === 0;
    if (plain) lifecycle[handler] = { exec: { command: hook.command.map(escapeExpansion) } };
    else findings.warn(service, key, `${key}: a Kubernetes ${handler} handler runs one command with the container's user, directory and environment; combine the hooks into one plain command`);
  }
  return Object.keys(lifecycle).length > 0 ? { lifecycle } : {};
}

/** Pod-level settings: namespaces, sysctls, groups, DNS, host aliases, platform. */
function podExtras(service: ServiceSpec, findings: Findings): Partial<IPodSpec> {
  const o = service.options ?? {};
  const pod: Partial<IPodSpec> = {};
  if (o.hostname !== undefined) {
    if (DNS_LABEL.test(o.hostname)) pod.hostname = o.hostname;
    else findings.warn(service, 'hostname', `hostname "${o.hostname}" is not a DNS label (a pod's hostname has no dots, at most 63 characters)`);
  }
  for (const [key, field] of [['pid', 'hostPID'], ['ipc', 'hostIPC']] as const) {
    const mode = o[key];
    if (mode === 'host') pod[field] = true;
    else if (mode !== undefined) findings.warn(service, key, `${key}: ${mode} has no pod equivalent (only "host" maps, to ${field})`);
  }
  const groups = (o.groupAdd ?? []).filter((g) => NUMERIC.test(g)).map(Number);
  if ((o.groupAdd ?? []).length > groups.length) findings.warn(service, 'group_add', 'group_add names: supplementalGroups needs numeric gids');
  const sysctls = Object.entries(o.sysctls ?? {}).map(([name, value]) => ({ name, value }));
  if (groups.length > 0 || sysctls.length > 0) {
    pod.securityContext = { ...(groups.length > 0 ? { supplementalGroups: groups } : {}), ...(sysctls.length > 0 ? { sysctls } : {}) };
  }
  const searches = o.dnsSearch ?? [];
  const options = (o.dnsOptions ?? []).map((opt) => {
    const [name = '', value] = opt.split(':');
    return value === undefined ? { name } : { name, value };
  });
  if (searches.length > 0 || options.length > 0) pod.dnsConfig = { ...(searches.length ? { searches } : {}), ...(options.length ? { options } : {}) };
  const aliases = new Map<string, string[]>();
  for (const h of o.extraHosts ?? []) {
    if (h.ip === 'host-gateway') findings.warn(service, 'extra_hosts', `extra_hosts ${h.host}:host-gateway: a pod has no host gateway address`);
    else aliases.set(h.ip, [...(aliases.get(h.ip) ?? []), h.host]);
  }
  if (aliases.size > 0) pod.hostAliases = [...aliases].map(([ip, hostnames]) => ({ ip, hostnames }));
  if (service.platform !== undefined) {
    const [os = '', arch] = service.platform.split('/');
    pod.nodeSelector = { 'kubernetes.io/os': os, ...(arch !== undefined ? { 'kubernetes.io/arch': arch } : {}) };
  }
  return pod;
}

export function deploymentFor(project: ProjectSpec, service: ServiceSpec, parts: PodParts, findings: Findings): Deployment {
  const labels = selectorLabels(project, service);
  const podSpec: IPodSpec = {
    containers: [container(service, project, parts, findings)],
    ...podExtras(service, findings),
    ...(parts.volumes.length > 0 ? { volumes: parts.volumes } : {}),
    terminationGracePeriodSeconds: seconds(service.stopGracePeriodMs, 0),
  };
  const annotations = annotationsOf(service, findings);
  return new Deployment({
    metadata: { name: kubeName(service.name), labels },
    spec: {
      replicas: service.replicas,
      selector: { matchLabels: labels },
      // cmesh rolls start-first: a new replica is healthy before an old one stops, so none is ever unavailable.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: service.mesh.rollout?.maxSurge ?? 1, maxUnavailable: 0 } },
      template: { metadata: { labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) }, spec: podSpec },
    },
  });
}
