// Secrets and configs → read-only bind mounts, before reconciling `up`. A `file:` source without ownership or mode
// changes is mounted as it is (edits show up live, as in Compose); content, environment values and files that need
// another uid/gid/mode are written once under CMESH_HOME/files/<project>/ (0700), named by a hash of what they hold,
// so a changed secret changes the replicas' spec and rolls them. The bytes are never logged and never enter an image.

import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CmeshError } from './api/errors.ts';
import type { FileGrant, FileSource, ProjectSpec, ServiceSpec, VolumeMount } from './api/project.ts';

const DEFAULT_MODE = 0o444;

/** The project as `up` and `run` hand it to the engine: unchanged without grants, an error without a files directory. */
export function withFileGrants(filesDir: string | undefined, project: ProjectSpec): Promise<ProjectSpec> {
  const grants = Object.values(project.services).some((s) => (s.secrets?.length ?? 0) + (s.configs?.length ?? 0) > 0);
  if (!grants) return Promise.resolve(project);
  if (filesDir === undefined) throw new CmeshError('CMESH_E_USAGE', 'this daemon has no directory for secrets and configs');
  return materializeFileGrants(filesDir, project);
}

/** Returns the project with each service's grants appended to its volumes as read-only binds. */
export async function materializeFileGrants(filesDir: string, project: ProjectSpec): Promise<ProjectSpec> {
  const services: Record<string, ServiceSpec> = { ...project.services };
  for (const [name, svc] of Object.entries(project.services)) {
    const grants = [...(svc.secrets ?? []).map((g) => ({ g, kind: 'secret' as const })), ...(svc.configs ?? []).map((g) => ({ g, kind: 'config' as const }))];
    if (grants.length === 0) continue;
    const mounts: VolumeMount[] = [];
    for (const { g, kind } of grants) {
      const table = kind === 'secret' ? project.secrets : project.configs;
      const source = table !== undefined && Object.hasOwn(table, g.source) ? table[g.source] : undefined;
      if (source === undefined) {
        throw new CmeshError('CMESH_E_CONFIG_INVALID', `service "${name}" grants ${kind} "${g.source}", which the project does not declare`, {
          hint: `declare it under the top-level \`${kind}s:\``,
        });
      }
      mounts.push({ type: 'bind', source: await hostFile(filesDir, project.name, name, source, g), target: g.target, readOnly: true });
    }
    services[name] = { ...svc, volumes: [...svc.volumes, ...mounts] };
  }
  return { ...project, services };
}

/** Forgets a project's written secrets and configs (on `down`). */
export async function removeFileGrants(filesDir: string, project: string): Promise<void> {
  await rm(join(filesDir, project), { recursive: true, force: true });
}

async function hostFile(filesDir: string, project: string, service: string, source: FileSource, g: FileGrant): Promise<string> {
  const asIs = g.uid === undefined && g.gid === undefined && g.mode === undefined;
  if (source.file !== undefined) {
    const st = await stat(source.file).catch(() => undefined);
    if (!st?.isFile()) {
      throw new CmeshError('CMESH_E_CONFIG_INVALID', `${source.kind} "${source.name}" reads ${source.file}, which is not a file`, {
        hint: `create it, or point \`${source.kind}s.${source.name}.file\` at an existing file`,
      });
    }
    if (asIs) return source.file;
  }
  const bytes = source.content !== undefined ? Buffer.from(source.content) : await readFile(source.file ?? '');
  const mode = g.mode ?? DEFAULT_MODE;
  const digest = createHash('sha256').update(bytes).update(`\0${mode}\0${g.uid ?? ''}\0${g.gid ?? ''}`).digest('hex').slice(0, 16);
  const dir = join(filesDir, project);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${service}.${source.kind}.${source.name}.${digest}`);
  await writeFile(file, bytes, { mode });
  // writeFile's mode is masked by the umask: set it exactly.
  await chmod(file, mode);
  if (g.uid !== undefined || g.gid !== undefined) {
    try {
      await chown(file, g.uid ?? -1, g.gid ?? -1);
    } catch (err) {
      throw new CmeshError('CMESH_E_CONFIG_INVALID', `cannot give ${source.kind} "${source.name}" to uid ${g.uid ?? '-'} gid ${g.gid ?? '-'}: ${(err as Error).message}`, {
        hint: 'the daemon needs root (or matching ids) to set a secret file\'s owner; drop uid/gid to keep your own',
      });
    }
  }
  return file;
}
