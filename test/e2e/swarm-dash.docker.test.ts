// `cmesh dash` against a swarm project, in a real terminal (tmux, 100×30) on a real single-node swarm: the table shows
// the tasks healthy behind the published port, `k` `y` kills a task and Swarm's replacement shows up healthy, `q`
// quits. The test joins the engine to a swarm only when it is in none and leaves it again (only if it did the init);
// everything it creates is labelled and removed, also on failure.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CmeshCli, until } from '../helpers/cmesh-cli.ts';
import { newRunId, ROOT } from '../helpers/docker.ts';
import { swarmTestFile, teardownSwarmProject, upTwoTaskWeb } from '../helpers/swarm.ts';
import { paneEnv, startPane, type TmuxPane } from '../helpers/tmux.ts';

const runId = newRunId('swarmdash');
const project = runId;
const session = await swarmTestFile([runId]);

if (session.skip !== undefined) test('swarm target: dash', { skip: session.skip }, () => {});
else {
  describe('cmesh dash on the swarm target', { timeout: 300_000 }, () => {
    let cli: CmeshCli;
    let pane: TmuxPane | undefined;
    let port = 0;

    before(async () => {
      ({ cli, port } = await upTwoTaskWeb(project, runId));
    });

    after(async () => {
      try {
        await pane?.kill();
      } finally {
        await teardownSwarmProject(cli, project, runId);
      }
    });

    test('the tasks show healthy behind the published port; k/y kills one and Swarm’s replacement shows up; q quits', async () => {
      pane = await startPane(`cmesh-${runId}`, 'dash', paneEnv(cli.env()), cli.work);
      await pane.keys(`${process.execPath} ${join(ROOT, 'bin/cmesh.js')} dash; echo DASH-EXIT=$?`, 'Enter');
      await pane.see(new RegExp(`> web\\s+2/2\\s+healthy\\s+\\S+\\s+127\\.0\\.0\\.1:${port}->8080`), 60_000);
      await pane.keys('Enter');
      await pane.see(/web-2\s+running\s+healthy/);

      const before1 = (await cli.ps()).find((r) => r.service === 'web' && r.replica === 1 && r.state === 'running')!;
      await pane.keys('Down');
      await pane.see(/> {3}web-1/);
      await pane.keys('k');
      await pane.see(/kill web-1\? .*\[y\/n\]/);
      await pane.keys('y');
      await pane.see(/killed \S+; Swarm replaces it/);
      await until('Swarm to replace the task in slot 1', 60_000, async () => {
        const now = (await cli.ps()).find((r) => r.service === 'web' && r.replica === 1 && r.state === 'running' && r.container !== before1.container);
        return now?.health === 'healthy' ? now : undefined;
      }, 250);
      await pane.see(/web\s+2\/2\s+healthy/, 30_000);

      await pane.keys('q');
      assert.match(await pane.see(/DASH-EXIT=\d+/, 10_000), /DASH-EXIT=0/);
    });
  });
}
