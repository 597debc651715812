// Entry of the gateway's stable supervisor process (runSupervisor): CMESH_GATEWAY_WORKER names the first bundle.

import { runSupervisor } from './supervisor.ts';

const initial = process.env['CMESH_GATEWAY_WORKER'];
if (!initial) {
  process.stderr.write('cmesh gateway supervisor: CMESH_GATEWAY_WORKER is not set\n');
  process.exit(2);
}
const supervisor = runSupervisor({ initial, log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`) });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void supervisor.stop().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1500).unref();
  });
}
