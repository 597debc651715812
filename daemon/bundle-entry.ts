// Entry of the daemon bundle (cli/daemon-bundle.ts): main.ts's own "am I the entry?" check cannot see a bundle.

import { runDaemon } from './main.ts';

runDaemon().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${new Date().toISOString()} cmesh-daemon: BUG: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(70);
  },
);
