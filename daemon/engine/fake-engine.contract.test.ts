// The engine contract against the fake: strict images, Dockerfiles run by the classic-builder model, and apps that
// run their `sh -c` scripts through the fake shell, so the same cases the real engine passes hold here.

import { engineContract } from './engine-contract.ts';
import { FakeEngine } from './fake-engine.ts';
import { runShell } from './fake-shell.ts';

engineContract('FakeEngine', async () => {
  const engine = new FakeEngine({ strictImages: true, runDockerfiles: true, reach: 'direct', now: () => Date.now() });
  const image = 'cmesh/busybox:local';
  engine.addImage(image);
  engine.setStartHandler((c) => {
    const run = runShell([...(c.spec.entrypoint ?? []), ...(c.spec.command ?? [])]);
    // The app runs after start returns, as a real process would.
    setImmediate(() => {
      if (engine.container(c.id)?.startedAt !== c.startedAt) return; // removed or restarted meanwhile
      for (const line of run.output) engine.emitLog(c.id, line.text, line.stream);
      if (run.exitCode !== undefined) engine.simulateExit(c.id, run.exitCode);
    });
  });
  engine.setExecHandler((_c, command, options) => {
    const run = runShell(command, options);
    const output = run.output.map((l) => `${l.text}\n`).join('');
    if (run.exitCode !== undefined) return { exitCode: run.exitCode, output };
    // A script that ends in `sleep N` is a process that runs N seconds, then exits 0.
    return new Promise((resolve) => setTimeout(() => resolve({ exitCode: 0, output }), (run.sleepSec ?? 0) * 1000));
  });
  return { engine, image, project: 'contract', labels: {}, now: () => engine.now(), cleanup: async () => {} };
});
