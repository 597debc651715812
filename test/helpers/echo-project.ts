// The setup most *.docker.test.ts share: an engine, the echo fixture image, a private cmesh CLI, a free loopback port
// and a compose.yaml with one labelled echo service behind that port. A failed setup tears down what it made.

import { type CmeshCli, newCmeshCli } from './cmesh-cli.ts';
import { buildFixtureImage, ensureBaseImages, RUN_LABEL, requireDocker, TEST_LABEL } from './docker.ts';
import { freePort } from './free-port.ts';

/** The compose knobs the tests vary; anything unset is left out of the file (so cmesh's default applies). */
export interface EchoServiceOptions {
  /** Service name; `web` by default. */
  service?: string;
  /** A compose `build:` value (e.g. `{ context: ./app }`) in place of the fixture image. */
  build?: string;
  restart?: string;
  /** Host address of the published port, e.g. `127.0.0.1`; without it the mapping is `<port>:3000`. */
  hostIp?: string;
  replicas?: number;
  environment?: Record<string, string>;
  stopGracePeriod?: string;
  lb?: string;
  /** Extra `x-cmesh:` lines after `lb`, unindented, e.g. `weights: [1, 1, 2]`. */
  mesh?: string[];
  /** The active health check's settings; its path is always /healthz. */
  health?: Record<string, string | number>;
  timeouts?: Record<string, string>;
  /** Escape hatch: compose text (already indented as services) appended after the echo service. */
  extraServices?: string;
}

export interface EchoProjectOptions extends EchoServiceOptions {
  /** Labels everything and names the project; the caller keeps it so its `after` can sweep even a failed setup. */
  runId: string;
  /** Fixture under fixtures/docker/ to build as the image; `echo` by default, ignored with `build`. */
  fixture?: string;
  /** Extra environment of the CLI and its daemon. */
  cliEnv?: NodeJS.ProcessEnv;
}

/** What a later compose rewrite may change; `project` and `port` let a test describe a second, separate project. */
export type ComposeOverrides = Partial<EchoServiceOptions> & { project?: string; port?: number };

export interface EchoProject {
  cli: CmeshCli;
  runId: string;
  /** The compose project name (the run id). */
  project: string;
  /** The published port, free on 127.0.0.1 when the project was made. */
  port: number;
  /** The fixture image tag; '' with `build`. */
  image: string;
  /** Writes the compose file for the project's options with `overrides` applied (see CmeshCli.writeCompose). */
  writeCompose(overrides?: ComposeOverrides, file?: string): Promise<void>;
  /** CmeshCli.teardown of this project and run: never throws. */
  teardown(): Promise<void>;
}

/** The `labels:` block every service a test creates carries, so cleanup(runId) and scripts/reap.sh find it. */
export const serviceLabels = (runId: string): string => `    labels:\n      ${TEST_LABEL}: "true"\n      ${RUN_LABEL}: ${runId}\n`;

const flow = (o: Record<string, string | number>, quote = false): string =>
  `{ ${Object.entries(o)
    .map(([k, v]) => `${k}: ${quote ? JSON.stringify(String(v)) : v}`)
    .join(', ')} }`;

function echoService(o: EchoServiceOptions, image: string, port: number, runId: string): string {
  const lines = [`  ${o.service ?? 'web'}:`, o.build ? `    build: ${o.build}` : `    image: ${image}`];
  if (o.restart) lines.push(`    restart: ${o.restart}`);
  lines.push(`    ports: ["${o.hostIp ? `${o.hostIp}:` : ''}${port}:3000"]`);
  if (o.replicas !== undefined) lines.push(`    deploy: { replicas: ${o.replicas} }`);
  if (o.environment) lines.push(`    environment: ${flow(o.environment, true)}`);
  if (o.stopGracePeriod) lines.push(`    stop_grace_period: ${o.stopGracePeriod}`);
  const mesh = [
    ...(o.lb ? [`lb: ${o.lb}`] : []),
    ...(o.mesh ?? []),
    ...(o.health ? [`health: ${flow({ path: '/healthz', ...o.health })}`] : []),
    ...(o.timeouts ? [`timeouts: ${flow(o.timeouts)}`] : []),
  ];
  if (mesh.length > 0) lines.push('    x-cmesh:', ...mesh.map((l) => `      ${l}`));
  return `${lines.join('\n')}\n${serviceLabels(runId)}${o.extraServices ?? ''}`;
}

/** requireDocker → image → CLI → free port → compose.yaml. Nothing is started: the test runs `up` when it wants. */
export async function echoProject(opts: EchoProjectOptions): Promise<EchoProject> {
  const { runId, fixture = 'echo', cliEnv, ...service } = opts;
  const project = runId;
  await requireDocker();
  // A `build:` service builds FROM the base images; anything else runs the fixture image.
  const image = service.build ? await ensureBaseImages().then(() => '') : await buildFixtureImage(fixture);
  const cli = await newCmeshCli(cliEnv);
  try {
    const port = await freePort();
    const writeCompose = (o: ComposeOverrides = {}, file?: string): Promise<void> => {
      const { project: name = project, port: published = port, ...rest } = o;
      return cli.writeCompose(name, echoService({ ...service, ...rest }, image, published, runId), file);
    };
    await writeCompose();
    return { cli, runId, project, port, image, writeCompose, teardown: () => cli.teardown(project, runId) };
  } catch (error) {
    // The caller never gets the project, so its after hook cannot tear this down.
    await cli.teardown(project, runId);
    throw error;
  }
}
