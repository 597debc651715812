// What the gateway-replacement e2e tests share: the project (web ×2 and api ×1, echo services on 3000, one gateway
// dispatching them by Host), its shapes, an `up` that keeps the gateway's rollout lines, and the settled gateway.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CmeshCli, projectContainers, until } from './cmesh-cli.ts';
import { newRunId } from './docker.ts';
import { serviceLabels } from './echo-project.ts';
import { type Call, eastWestCaller, type EchoSuite, echoSuite, gatewayIds, httpCalls, PER_PROJECT_GATEWAYS } from './east-west.ts';

/** A replacement e2e file's project (named after its run), its network, its gateway's name, a caller on it, its suite. */
export function rolloutProject(prefix: string): { runId: string; project: string; network: string; gateway: string; caller: ReturnType<typeof eastWestCaller>; suite: EchoSuite } {
  const runId = newRunId(prefix);
  const project = runId;
  const network = `${project}_default`;
  return { runId, project, network, gateway: `${project}-cmesh-gateway`, caller: eastWestCaller(runId, network), suite: echoSuite(project, runId, PER_PROJECT_GATEWAYS) };
}

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

/** Waits until `n` fresh calls to `host` by name, made by `caller` (eastWestCaller), are all answered by `service`. */
export async function answeredBy(caller: (script: string) => Promise<unknown>, host: string, service: string, n = 10): Promise<void> {
  let seen = '';
  await until(`${host} answered by ${service}`, 30_000, async () => {
    const calls = (await caller(httpCalls(host, 3000, n))) as Call[];
    seen = JSON.stringify(calls.map((c) => c.error ?? c.service));
    return calls.every((c) => c.service === service) ? true : undefined;
  }, 500).catch((err: Error) => {
    throw new Error(`${err.message}; last: ${seen}`);
  });
}

/** The file's last test: `down` removes the gateway and every other container of the project. */
export function testDownRemovesAll(project: string, suite: EchoSuite): void {
  test('down removes the gateway and everything else of the project', async () => {
    await suite.cli!.ok(['down'], 120_000);
    assert.deepEqual(await gatewayIds(project), {});
    assert.deepEqual(await projectContainers(project), []);
  });
}
