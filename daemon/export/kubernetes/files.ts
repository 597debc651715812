// Files and variables a pod gets from objects: secrets → Secret, configs → ConfigMap (each mounted as one file at the
// compose target path, with its mode), env_file → a ConfigMap per file, referenced by envFrom.

import { basename } from 'node:path';
import { ConfigMap, Secret } from 'kubernetes-models/v1';
import type { IEnvFromSource, IEnvVar, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { CmeshError } from '../../api/errors.ts';
import type { FileGrant, FileSource, ProjectSpec, ServiceSpec } from '../../api/project.ts';
import type { Findings } from './findings.ts';
import { dataKey, escapeExpansion, kubeName, selectorLabels } from './names.ts';

/** Reads a secret's or config's file; bytes keep binary files intact. */
export type ReadFile = (absPath: string) => Uint8Array | string;

/** The bytes of a top-level secret or config: inline content, or the file it names. */
function contentOf(source: FileSource, readFile: ReadFile): Uint8Array | string {
  if (source.content !== undefined) return source.content;
  if (source.file === undefined) return '';
  try {
    return readFile(source.file);
  } catch (err) {
    throw new CmeshError('CMESH_E_CONFIG_READ', `cannot read ${source.kind} "${source.name}" from ${source.file}`, {
      hint: `the export copies the ${source.kind}'s content into a ${source.kind === 'secret' ? 'Secret' : 'ConfigMap'}; create the file or fix its path`,
      cause: err,
    });
  }
}

/** The content as text when it is valid UTF-8, else undefined. */
function asText(content: Uint8Array | string): string | undefined {
  if (typeof content === 'string') return content;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return undefined;
  }
}

/** `secret-db-password` / `config-nginx`: the object a top-level secret or config becomes. */
export const fileObjectName = (source: { kind: 'secret' | 'config'; name: string }): string => kubeName(`${source.kind}-${source.name}`);

/** One Secret or ConfigMap per top-level secret/config some exported service grants itself. */
export function fileObjects(project: ProjectSpec, readFile: ReadFile): (Secret | ConfigMap)[] {
  const used = (kind: 'secrets' | 'configs') => new Set(Object.values(project.services).flatMap((s) => (s[kind] ?? []).map((g) => g.source)));
  const out: (Secret | ConfigMap)[] = [];
  const labels = { 'app.kubernetes.io/part-of': kubeName(project.name) };
  for (const kind of ['secrets', 'configs'] as const) {
    const wanted = used(kind);
    for (const source of Object.values(project[kind] ?? {})) {
      if (!wanted.has(source.name)) continue;
      const metadata = { name: fileObjectName(source), labels };
      const key = dataKey(source.name);
      const content = contentOf(source, readFile);
      const text = asText(content);
      if (source.kind === 'secret') {
        out.push(new Secret({ metadata, type: 'Opaque', data: { [key]: Buffer.from(content).toString('base64') } }));
      } else if (text !== undefined) {
        out.push(new ConfigMap({ metadata, data: { [key]: text } }));
      } else {
        // A ConfigMap's `data` holds UTF-8 text only; anything else goes, base64, in `binaryData`.
        out.push(new ConfigMap({ metadata, binaryData: { [key]: Buffer.from(content).toString('base64') } }));
      }
    }
  }
  return out;
}

/** Volumes and mounts for a service's grants: each grant is one key of its object, mounted by subPath at the target. */
export function grantMounts(service: ServiceSpec, findings: Findings): { volumes: IVolume[]; mounts: IVolumeMount[] } {
  const volumes: IVolume[] = [];
  const mounts: IVolumeMount[] = [];
  const add = (kind: 'secret' | 'config', grants: FileGrant[] | undefined) => {
    (grants ?? []).forEach((g, i) => {
      const key = dataKey(g.source);
      const name = kubeName(`${kind}-${i}-${g.source}`);
      const item = { key, path: key, ...(g.mode !== undefined ? { mode: g.mode } : {}) };
      const objectName = fileObjectName({ kind, name: g.source });
      volumes.push(kind === 'secret' ? { name, secret: { secretName: objectName, items: [item] } } : { name, configMap: { name: objectName, items: [item] } });
      mounts.push({ name, mountPath: g.target, subPath: key, readOnly: true });
      if (g.uid !== undefined || g.gid !== undefined) {
        findings.warn(service, `${kind}s[${i}]`, `${kind} "${g.source}": uid/gid of the file cannot be set per file (pod fsGroup is the nearest)`);
      }
    });
  };
  add('secret', service.secrets);
  add('config', service.configs);
  return { volumes, mounts };
}

/** env_file entries as ConfigMaps, and the container env that is left once envFrom gives those values. */
export function environmentOf(project: ProjectSpec, service: ServiceSpec): { env: IEnvVar[]; envFrom: IEnvFromSource[]; configMaps: ConfigMap[] } {
  const fromFiles: Record<string, string> = {};
  const configMaps: ConfigMap[] = [];
  const envFrom: IEnvFromSource[] = [];
  const taken = new Set<string>();
  for (const f of service.envFiles ?? []) {
    let name = kubeName(`${service.name}-env-${basename(f.file)}`);
    for (let n = 2; taken.has(name); n++) name = kubeName(`${service.name}-env-${basename(f.file)}-${n}`);
    taken.add(name);
    configMaps.push(new ConfigMap({ metadata: { name, labels: selectorLabels(project, service) }, data: { ...f.values } }));
    // Later sources win in envFrom, as later env_file entries do in Compose; `env` wins over all, as `environment:` does.
    envFrom.push({ configMapRef: { name } });
    Object.assign(fromFiles, f.values);
  }
  const env = Object.entries(service.environment)
    .filter(([k, v]) => fromFiles[k] !== v)
    .map(([name, value]) => ({ name, value: escapeExpansion(value) }));
  return { env, envFrom, configMaps };
}
