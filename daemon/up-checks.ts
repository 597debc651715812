// What `up` checks against the engine before it pulls, builds or creates anything: keys this engine's API would drop
// (engine-compat.ts) and networks/volumes that exist with other options than the file now sets. The manager (projects.ts) calls them.

import type { ContainerEngine, EngineInfo } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { Labels } from './api/labels.ts';
import type { ProjectSpec } from './api/project.ts';
import { optionDrift } from './api/resource-options.ts';
import { engineGaps, gapMessage } from './engine-compat.ts';

export class UpChecks {
  readonly #engine: ContainerEngine;
  readonly #emit: (event: DaemonEvent) => void;
  #info: EngineInfo | undefined;

  constructor(engine: ContainerEngine, emit: (event: DaemonEvent) => void) {
    this.#engine = engine;
    this.#emit = emit;
  }

  /** The engine's version and address, asked once. */
  async engineInfo(): Promise<EngineInfo> {
    this.#info ??= await this.#engine.ping();
    return this.#info;
  }

  /**
   * What this engine's API cannot do (engine-compat.ts): named warnings, or a refusal listing every key the engine would
   * drop, before anything is created. The engine version is asked once.
   */
  async checkEngineGaps(project: ProjectSpec, services: string[]): Promise<void> {
    const { apiVersion } = await this.engineInfo();
    const gaps = engineGaps(project, services, apiVersion);
    const errors = gaps.filter((g) => g.severity === 'error');
    if (errors.length > 0) {
      const first = errors[0]!;
      throw new CmeshError('CMESH_E_ENGINE_UNSUPPORTED', gapMessage(first, apiVersion).split(';')[0]!, {
        hint: first.instead,
        issues: errors.map((g) => {
          const position = project.services[g.service]?.position;
          const message = `needs Engine API ${g.needs}, this engine speaks ${apiVersion}`;
          return { message, path: `services.${g.service}.${g.key}`, hint: g.instead, ...(position ? { position } : {}) };
        }),
        details: { apiVersion, keys: errors.map((g) => `services.${g.service}.${g.key}`) },
      });
    }
    for (const g of gaps) {
      this.#emit({ type: 'warning', time: Date.now(), project: project.name, service: g.service, key: g.key, message: gapMessage(g, apiVersion) });
    }
  }

  /** A network or volume the engine already has, made from other options than the file now asks: named, not dropped. */
  async warnOptionDrift(project: ProjectSpec): Promise<void> {
    const labels = { [Labels.project]: project.name };
    const [networks, volumes] = await Promise.all([this.#engine.listNetworks(labels), this.#engine.listVolumes(labels)]);
    for (const d of optionDrift(project, networks, volumes)) {
      const key = `${d.kind}s.${d.key}`;
      const how = d.kind === 'volume' ? '`cmesh down -v` (this deletes its data)' : '`cmesh down`';
      const message = `${d.kind} "${d.engineName}" was created with other options than ${key} now sets (ipam, driver_opts…) and keeps them: the engine cannot change them in place; ${how} and \`up\` again to recreate it`;
      this.#emit({ type: 'warning', time: Date.now(), project: project.name, key, message });
    }
  }
}
