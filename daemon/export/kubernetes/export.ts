// `cmesh export kubernetes`, the pure part: a normalized project in, typed Kubernetes objects, warnings and notes out.
// Nothing here touches the file system except through `readFile` (the content of file-based secrets and configs).

import type { Deployment } from 'kubernetes-models/apps/v1';
import type { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import type { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { CmeshError } from '../../api/errors.ts';
import type { ConfigWarning, ProjectSpec, ServiceSpec } from '../../api/project.ts';
import { deploymentFor } from './deployment.ts';
import { environmentOf, fileObjects, grantMounts, type ReadFile } from './files.ts';
import { Findings } from './findings.ts';
import { type ComposeSource, pointAtKeys } from './positions.ts';
import { type ExposeMode, servicesFor } from './service.ts';
import { claimFor, podStorage } from './volumes.ts';
import { warnUnmapped } from './warnings.ts';

export type KubeObject = Deployment | Service | Ingress | ConfigMap | Secret | PersistentVolumeClaim;

export interface ExportOptions {
  /** Set on every object; absent = no namespace, so `kubectl apply -n` decides. */
  namespace?: string;
  /** How published ports leave the cluster; absent = they don't (ClusterIP only, with a note). */
  expose?: ExposeMode;
  readFile: ReadFile;
  /** The compose files' text: warnings then point at the key's own line instead of the service's. */
  sources?: readonly ComposeSource[];
}

export interface ExportResult {
  objects: KubeObject[];
  warnings: ConfigWarning[];
  notes: string[];
}

export function exportKubernetes(project: ProjectSpec, options: ExportOptions): ExportResult {
  const findings = new Findings();
  const objects: KubeObject[] = [];
  const volumeUsers = new Map<string, ServiceSpec[]>();
  const services = Object.values(project.services).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const service of services) {
    warnUnmapped(project, service, findings);
    if (service.build !== undefined && service.image !== undefined) {
      findings.notes.push(`${service.name}: image ${service.image} is built by cmesh (build:); push it to a registry the cluster pulls from`);
    }
    const env = environmentOf(project, service);
    const storage = podStorage(project, service, findings);
    const grants = grantMounts(service, findings);
    for (const v of storage.claims) volumeUsers.set(v, [...(volumeUsers.get(v) ?? []), service]);
    const parts = { env: env.env, envFrom: env.envFrom, volumes: [...storage.volumes, ...grants.volumes], mounts: [...storage.mounts, ...grants.mounts] };
    const deployment = deploymentFor(project, service, parts, findings);
    const own: KubeObject[] = [deployment, ...servicesFor(project, service, options.expose, findings), ...env.configMaps];
    // Annotated last, once every part of the service has reported what it could not carry.
    const lost = findings.annotation(service);
    if (Object.keys(lost).length > 0) deployment.metadata = { ...deployment.metadata, annotations: lost };
    objects.push(...own);
  }
  for (const [name, users] of [...volumeUsers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const claim = claimFor(project, name, users, findings);
    if (claim !== undefined) objects.push(claim);
  }
  const files = fileObjects(project, options.readFile);
  const secrets = files.filter((o) => o.kind === 'Secret').map((o) => o.metadata?.name ?? '');
  if (secrets.length > 0) {
    const which = secrets.length === 1 ? `Secret ${secrets[0]} holds the secret's` : `Secrets ${secrets.join(', ')} hold the secrets'`;
    findings.notes.push(`${which} content (base64, not encrypted): keep the output out of version control`);
  }
  objects.push(...files);
  refuseCollisions(objects);
  checkSchemas(objects);
  if (options.namespace !== undefined) {
    for (const o of objects) o.metadata = { ...o.metadata, namespace: options.namespace };
  }
  const warnings = options.sources === undefined ? findings.warnings : pointAtKeys(findings.warnings, options.sources);
  return { objects, warnings, notes: findings.notes };
}

/** Compose names allow `_`, `.` and capitals; two that become one Kubernetes name would overwrite each other. */
function refuseCollisions(objects: readonly KubeObject[]): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name ?? ''}`;
    if (seen.has(id)) {
      throw new CmeshError('CMESH_E_CONFIG_INVALID', `two objects would both be ${id} in Kubernetes`, {
        hint: 'Kubernetes names are lower-case letters, digits and "-": rename one of the compose services, volumes, secrets or configs',
      });
    }
    seen.add(id);
  }
}

/** Every object against the API schemas before anything is written: a failure here is a bug in the exporter. */
function checkSchemas(objects: readonly KubeObject[]): void {
  for (const o of objects) {
    try {
      o.validate();
    } catch (err) {
      throw new CmeshError('CMESH_E_BUG', `the Kubernetes export built an invalid ${o.kind} "${o.metadata?.name ?? ''}": ${(err as Error).message}`, {
        hint: 'please report it with the compose file',
        cause: err,
      });
    }
  }
}
