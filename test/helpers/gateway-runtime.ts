// What the e2e tests of a new host runtime reaching a running east-west gateway share (issue #13): the runtime's name
// as the daemon computes it, the gateway's processes (read with the image's own node: no shell in it), the new
// daemon's image tag, and one "restart the daemon with a new host runtime under load" run.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostRuntime } from '../../daemon/gateway-runtime.ts';
import { type CmeshCli, sleep, until } from './cmesh-cli.ts';
import { run } from './docker.ts';
import { failedCount, type LoadResult, loadStarted, mixedLoad } from './east-west.ts';

/** `runtime-<16 hex>`: the runtime directory the daemon delivers with `env` (CMESH_GATEWAY_NODE, CMESH_GATEWAY_LIBS). */
export async function runtimeName(env: NodeJS.ProcessEnv): Promise<string> {
  return (await hostRuntime(env)).name;
}

export interface GatewayProcess {
  exe: string;
  cmd: string;
  /** The shared objects it mapped (/proc/<pid>/maps). */
  libs: string[];
}

/** Every process in the gateway container but the reader itself. */
export async function processesOf(container: string): Promise<GatewayProcess[]> {
  const script = `const fs=require('fs');const out=[];for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p)||p===String(process.pid))continue;try{const libs=[...new Set(fs.readFileSync('/proc/'+p+'/maps','utf8').split('\\n').map((l)=>l.split(/\\s+/)[5]||'').filter((f)=>/\\.so(\\.|$)/.test(f)))];out.push({exe:fs.readlinkSync('/proc/'+p+'/exe'),cmd:fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0').join(' '),libs})}catch{}}console.log(JSON.stringify(out))`;
  return JSON.parse(await run(['exec', container, '/usr/local/bin/node', '-e', script])) as GatewayProcess[];
}

/** The gateway's workers (forked from `worker-<hash>.mjs`). */
export const workersOf = async (container: string): Promise<GatewayProcess[]> => (await processesOf(container)).filter((p) => /worker-[0-9a-f]{16}\.mjs/.test(p.cmd));

/** The worker process of a runtime directory is its loader. */
export const loaderOf = (runtime: string): string => `/run/cmesh/${runtime}/ld.so`;

/** The image tag the daemon with the new runtime computed (its tag cache's other entry), once it has computed it. */
export async function otherImageTag(cli: CmeshCli, firstImage: string): Promise<string | undefined> {
  const read = async () => {
    const cache = JSON.parse(await readFile(join(cli.home, 'gateway-image-tag.json'), 'utf8')) as { entries: { tag: string }[] };
    return cache.entries.map((e) => e.tag).find((tag) => tag !== firstImage);
  };
  return until('the new image tag', 30_000, read, 250).catch(() => undefined);
}

/**
 * Downs the project (reaping what the test labelled), then removes the gateway image the new daemon made: `made` when
 * the test got that far, else the one its tag cache names once `changed` (the daemon had the new runtime). Removed
 * once its background build is over (an image still building cannot be removed); never forced; never `first`.
 */
export async function teardownWithNewImage(o: { cli: CmeshCli | undefined; project: string; runId: string; first: string | undefined; made: string | undefined; changed: boolean }): Promise<void> {
  const tag = o.made ?? (o.cli && o.first && o.changed ? await otherImageTag(o.cli, o.first) : undefined);
  await o.cli?.teardown(o.project, o.runId);
  if (!tag || tag === o.first) return;
  await until('the new image to be built', 120_000, async () => ((await run(['image', 'inspect', tag]).catch(() => '')) ? true : undefined), 1000).catch(() => undefined);
  await run(['rmi', tag]).catch(() => undefined);
}

export interface SwapRun {
  result: LoadResult;
  /** When the daemon was started again, and when the gateway served from a worker on the new runtime (ms epoch). */
  startedAt: number;
  swapped: number;
}

/**
 * Under 2 keep-alive and 2 fresh-connection callers (a sibling container, `loadMs`): kills the daemon, adds `set` to
 * its environment, starts it, and waits for the gateway's supervisor to serve from a worker on `runtime`.
 */
export async function swapUnderLoad(o: {
  cli: CmeshCli;
  caller: (script: string, timeoutMs?: number, name?: string) => Promise<unknown>;
  gateway: string;
  name: string;
  loadMs: number;
  runtime: string;
  /** The environment the CLI starts the daemon with, and what the new daemon gets in it. */
  daemonEnv: NodeJS.ProcessEnv;
  set: NodeJS.ProcessEnv;
}): Promise<SwapRun> {
  const load = o.caller(mixedLoad('web', 3000, o.loadMs), 60_000, o.name) as Promise<LoadResult>;
  await loadStarted(o.name);
  await sleep(1500);
  await o.cli.killDaemon();
  Object.assign(o.daemonEnv, o.set);
  const startedAt = Date.now();
  await o.cli.ok(['daemon', 'start'], 30_000);
  const swapped = await until('the gateway to serve from a worker on the new runtime', 30_000, async () => {
    const logs = await run(['logs', o.gateway]);
    const asked = logs.split(`on /run/cmesh/${o.runtime}`).slice(1).join('');
    return /supervisor: now serving from \/run\/cmesh\/worker-[0-9a-f]{16}\.mjs/.test(asked) ? Date.now() : undefined;
  }, 250);
  const result = await load;
  const line = (mode: string, m: LoadResult['fresh']) => `${mode}: ${m.ok} ok, ${failedCount(m)} failed ${JSON.stringify(m.fails)}, longest gap ${m.longestGapMs} ms`;
  process.stdout.write(
    `# ${o.name} (${o.loadMs} ms; new daemon started at +${startedAt - result.startedAt} ms, worker on the new runtime serving ${swapped - startedAt} ms later)\n` +
      `#   ${line('keep-alive', result.keepAlive)}\n#   ${line('fresh-connection', result.fresh)}\n`,
  );
  return { result, startedAt, swapped };
}
