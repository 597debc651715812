// The project the product-path benches run (bench/proxy-product.ts, bench/tls-product.ts): 3 cmesh-fixture/echo:test
// replicas behind one published loopback port, brought up by a real daemon, with what the bench needs to load it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CmeshCli } from '../test/helpers/cmesh-cli.ts';
import { serviceLabels } from '../test/helpers/echo-project.ts';
import { freePort } from '../test/helpers/free-port.ts';

export interface EchoProduct {
  /** The published port (the daemon's listener). */
  hostPort: number;
  /**
   * The 3 replicas' own endpoints as the daemon reaches them (`host:port`: their addresses on the project network, or
   * loopback ports where the engine publishes: daemon/engine/replica-reach.ts), for the peers in front of the same
   * replicas the same way.
   */
  ports: string[];
  daemonPid: number;
}

/** Writes compose.yaml (service `web`; `xCmesh` is its x-cmesh flow mapping, if any) and runs `up -d --wait`. */
export async function upEchoProduct(cli: CmeshCli, runId: string, echo: string, xCmesh?: string): Promise<EchoProduct> {
  const hostPort = await freePort();
  const mesh = xCmesh === undefined ? '' : `    x-cmesh: ${xCmesh}\n`;
  writeFileSync(
    join(cli.work, 'compose.yaml'),
    `name: ${runId}\nservices:\n  web:\n    image: ${echo}\n    deploy: { replicas: 3 }\n    ports: ["127.0.0.1:${hostPort}:3000"]\n${mesh}${serviceLabels(runId)}`,
  );
  await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
  const replicas = (await cli.ps()).filter((r) => r.service === 'web' && r.state === 'running');
  if (replicas.length !== 3) throw new Error(`expected 3 running replicas, got ${replicas.length}`);
  const ports = replicas.map((r) => {
    const ep = r.endpoints.find((e) => e.containerPort === 3000 && e.protocol === 'tcp');
    if (!ep) throw new Error(`${r.name} has no endpoint for 3000`);
    return `${ep.host}:${ep.hostPort}`;
  });
  const daemonPid = await cli.daemonPid();
  if (!daemonPid) throw new Error('no daemon pid');
  return { hostPort, ports, daemonPid };
}
