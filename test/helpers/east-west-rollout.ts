// What the gateway-replacement e2e tests share: the project (web ×2 and api ×1, echo services on 3000, one gateway
// dispatching them by Host), its shapes, an `up` that keeps the gateway's rollout lines, and the settled gateway.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CmeshCli } from './cmesh-cli.ts';
import { serviceLabels } from './echo-project.ts';
import { gatewayIds } from './east-west.ts';

export interface Shape {
  /** Compose aliases of web on the default network. */
  webAliases: string[];
  /** api opted out of the mesh (plain Docker DNS). */
  apiOut: boolean;
}

/** web ×2 and api ×1, echo services on 3000 (HTTP by their probe), both on the one gateway until api opts out. */
export function webApiCompose(project: string, runId: string, echo: string, s: Shape): string {
  const probe = 'health: { path: /healthz, interval: 250ms, timeout: 500ms, rise: 1, fall: 2 }';
  const aliases = s.webAliases.length > 0 ? `    networks: { default: { aliases: [${s.webAliases.join(', ')}] } }\n` : '';
  const service = (name: string, replicas: number, extra: string, mesh: string) =>
    `  ${name}:\n    image: ${echo}\n    deploy: { replicas: ${replicas} }\n    environment: { SERVICE_NAME: ${name} }\n    expose: ["3000"]\n${extra}    x-cmesh: { ${probe}${mesh} }\n${serviceLabels(runId)}`;
  return `name: ${project}\nservices:\n${service('web', 2, aliases, '')}${service('api', 1, '', s.apiOut ? ', mesh: false' : '')}`;
}

/** Writes the shape's compose file into the CLI's work dir. */
export const writeShape = (cli: CmeshCli, project: string, runId: string, echo: string, s: Shape): Promise<void> =>
  writeFile(join(cli.work, 'compose.yaml'), webApiCompose(project, runId, echo, s));

/** The gateway's rollout lines (`Rollout cmesh:gateway …`) in an `up`'s stderr. */
export const rolloutLines = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((l) => l.includes('Rollout cmesh:gateway'))
    .map((l) => l.trim());

/** The gateway's containers once a replacement is done: the canonical name only (no `-next` left); its id. */
export async function settledGateway(project: string): Promise<string> {
  const gateway = `${project}-cmesh-gateway`;
  const ids = await gatewayIds(project);
  assert.deepEqual(Object.keys(ids), [gateway], `one gateway, under its own name: ${JSON.stringify(ids)}`);
  return ids[gateway]!;
}
