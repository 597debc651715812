// The gateway container's entry, frozen on purpose: the image (and so the container) holds this file, not the
// supervisor. It starts the supervisor module worker.json names (`supervisor-<hash>.mjs` in /run/cmesh; the image's
// own copy when none is named or it cannot load) and, when a worker asks for another one, loads that module and hands
// the running supervisor's state over to it in this same process: the listening sockets and the workers stay.
// CHANGING THIS FILE RECREATES EVERY GATEWAY STOP-FIRST (daemon/gateway-image-init.test.ts pins it; README, East-west).
// It imports only node builtins, so nothing it is made of changes under it.

import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A supervisor module (mesh/gateway/supervisor-main.ts): every cmesh version's keeps this shape. */
interface SupervisorModule {
  start(ctx: { self: string; adopt?: unknown; pending?: unknown; log(line: string): void; handOver(file: string, pending: unknown): void }): {
    stop(): Promise<void>;
    handOff(): unknown;
  };
}

const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const pointer = process.env['CMESH_GATEWAY_WORKER'] ?? '';
// The image's own supervisor sits beside init; CMESH_GATEWAY_SUPERVISOR names another (tests: the source).
const own = process.env['CMESH_GATEWAY_SUPERVISOR'] || join(dirname(process.argv[1] ?? '.'), 'supervisor.mjs');
let loads = 0;
// A unique URL per load: node caches a module by its URL, and a module loaded again must run afresh.
const load = async (file: string): Promise<SupervisorModule> => (await import(`${pathToFileURL(file).href}?load=${++loads}`)) as SupervisorModule;
const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function named(): string | undefined {
  try {
    const { supervisor } = JSON.parse(readFileSync(pointer, 'utf8')) as { supervisor?: unknown };
    return typeof supervisor === 'string' && basename(supervisor) === supervisor ? join(dirname(pointer), supervisor) : undefined;
  } catch {
    return undefined;
  }
}

let running: { module: SupervisorModule; file: string; handle: ReturnType<SupervisorModule['start']> } | undefined;
const run = (module: SupervisorModule, file: string, adopt?: unknown, pending?: unknown): void => {
  running = { module, file, handle: module.start({ self: file, adopt, pending, log, handOver: (f, p) => void handOver(f, p) }) };
};

/** Loaded first, then handed over in one synchronous step: no worker message or exit falls between two supervisors. */
async function handOver(file: string, pending: unknown): Promise<void> {
  const old = running!;
  const module = await load(file).catch((err: unknown) => log(`init: cannot load ${file}: ${why(err)}`));
  const state = old.handle.handOff();
  if (module) {
    try {
      return run(module, file, state, pending);
    } catch (err) {
      log(`init: ${file} could not take over: ${why(err)}`);
    }
  }
  log(`init: ${old.file} keeps supervising`);
  run(old.module, old.file, state, pending);
}

async function main(): Promise<void> {
  const file = named();
  if (file) {
    try {
      return run(await load(file), file);
    } catch (err) {
      log(`init: cannot start ${file}: ${why(err)}; starting ${own}`);
    }
  }
  run(await load(own), own);
}

main().catch((err: unknown) => {
  process.stderr.write(`cmesh gateway init: ${why(err)}\n`);
  process.exit(2);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void running?.handle.stop().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1500).unref();
  });
}
