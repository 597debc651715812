// Finds the compose files to load: -f list, else COMPOSE_FILE, else compose.yaml & co. in cwd or a parent,
// plus the matching override file next to it.

import { statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { CmeshError } from '../api/errors.ts';
import type { ConfigWarning } from '../api/project.ts';

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;
export const OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'] as const;

function isFile(p: string, seen?: (path: string) => void): boolean {
  seen?.(p);
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface Discovered {
  files: string[];
  warnings: ConfigWarning[];
}

/** `seen` is told every path looked at, found or not (a cache of the result must notice a file that appears later). */
export function discoverComposeFiles(
  cwd: string,
  files: string[] | undefined,
  env: Record<string, string | undefined>,
  seen?: (path: string) => void,
): Discovered {
  if (files !== undefined && files.length > 0) return { files: files.map((f) => resolve(cwd, f)), warnings: [] };
  const fromEnv = env['COMPOSE_FILE'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const sep = env['COMPOSE_PATH_SEPARATOR'] || delimiter;
    return { files: fromEnv.split(sep).filter((f) => f !== '').map((f) => resolve(cwd, f)), warnings: [] };
  }
  const warnings: ConfigWarning[] = [];
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const found = COMPOSE_FILE_NAMES.map((n) => join(dir, n)).filter((p) => isFile(p, seen));
    const main = found[0];
    if (main !== undefined) {
      if (found.length > 1) warnings.push({ message: `found several compose files in ${dir} (${found.map((f) => f.slice(dir.length + 1)).join(', ')}); using ${main.slice(dir.length + 1)}` });
      const override = OVERRIDE_FILE_NAMES.map((n) => join(dir, n)).find((p) => isFile(p, seen));
      return { files: override === undefined ? [main] : [main, override], warnings };
    }
    if (dirname(dir) === dir) break;
  }
  throw new CmeshError('CMESH_E_CONFIG_NOT_FOUND', `no compose file found in ${resolve(cwd)} or any parent directory`, {
    hint: `create ${COMPOSE_FILE_NAMES[0]}, or pass one with -f <file>`,
  });
}
