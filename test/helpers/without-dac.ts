// Root reads through any file mode (CAP_DAC_OVERRIDE), so a test of a permission error runs its code in a child node
// as root *without* the file-permission capabilities: a mode-000 file then fails with a real EACCES. Running the child
// as `nobody` did the same only where nobody can read the checkout: under a 0700 /root (a fresh Debian machine) it
// could not even load tsx. setpriv is util-linux's, which every Debian has (Essential).

import { type SpawnSyncReturns, spawnSync } from 'node:child_process';

const DROPPED = '-dac_override,-dac_read_search';

/** `node --import tsx <args>` as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (inheritable and bounding). */
export function nodeWithoutDac(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const res = spawnSync('setpriv', [`--inh-caps=${DROPPED}`, `--bounding-set=${DROPPED}`, '--', process.execPath, '--import', 'tsx', ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  if (res.error) throw new Error(`setpriv (util-linux) could not run node without the DAC capabilities: ${res.error.message}`);
  return res;
}
