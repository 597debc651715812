// `cmesh events`, `exec` and `cp` on the swarm target, on a real single-node swarm: the event stream carries a killed
// task's death and its replacement, Swarm's rolling update and a scale, in the local target's format (JSON and text);
// `exec --index N` runs in the task of slot N and returns its exit code; `cp` copies out of a task. The test joins the
// engine to a swarm only when it is in none and leaves it again (only if it did the init); everything it creates is
// labelled and removed, also on failure.

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DaemonEvent } from '../../daemon/api/events.ts';
import { type CmeshCli, sleep, until } from '../helpers/cmesh-cli.ts';
import { newRunId, ROOT, run } from '../helpers/docker.ts';
import { swarmTestFile, teardownSwarmProject, upTwoTaskWeb } from '../helpers/swarm.ts';

const runId = newRunId('swarmev');
const project = runId;
const session = await swarmTestFile([runId]);

/** Slot → the 12-character ID of the running task container in it (what `hostname` prints inside). */
async function taskSlots(): Promise<Map<number, string>> {
  const out = await run(['ps', '--filter', `label=com.docker.swarm.service.name=${project}_web`, '--filter', 'status=running', '--format', '{{.ID}} {{.Label "com.docker.swarm.task.name"}}']);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id, task] = line.split(' ');
        return [Number(task!.split('.').at(-2)), id!] as const;
      }),
  );
}

if (session.skip !== undefined) test('swarm target: events, exec, cp', { skip: session.skip }, () => {});
else {
  describe('cmesh events, exec and cp on the swarm target', { timeout: 400_000 }, () => {
    let cli: CmeshCli;
    const feeds: ChildProcessWithoutNullStreams[] = [];
    let json = '';
    let text = '';
    const events = (): DaemonEvent[] => json.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DaemonEvent);
    const of = <T extends DaemonEvent['type']>(type: T) => events().filter((e): e is Extract<DaemonEvent, { type: T }> => e.type === type);

    before(async () => {
      ({ cli } = await upTwoTaskWeb(project, runId));
      const start = (args: string[], sink: (d: string) => void) => {
        const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'events', ...args], { cwd: cli.work, env: { ...cli.env(), NO_COLOR: '1' } });
        child.stdout.on('data', (d) => sink(String(d)));
        feeds.push(child);
      };
      start(['--json'], (d) => (json += d));
      start([], (d) => (text += d));
      await sleep(1500);
    });

    after(async () => {
      for (const f of feeds) f.kill('SIGINT');
      await teardownSwarmProject(cli, project, runId);
    });

    /**
     * `exec --index slot web args…` and the container that held the slot; a task Swarm replaced meanwhile (one gone
     * unhealthy on a loaded host: the engine answers 126) gets one more try, on its successor.
     */
    async function execIn(slot: number, args: string[]) {
      for (let attempt = 0; ; attempt++) {
        const container = (await taskSlots()).get(slot);
        const r = await cli.cmesh(['exec', '-T', '--index', String(slot), 'web', ...args]);
        if (r.code === 0 || attempt > 0 || (await taskSlots()).get(slot) === container) return { ...r, container };
      }
    }

    test('exec --index N runs in the task of slot N, passes its exit code; a missing slot is refused by name', async () => {
      assert.deepEqual([...(await taskSlots()).keys()].sort(), [1, 2]);
      for (const slot of [1, 2]) {
        const r = await execIn(slot, ['hostname']);
        assert.deepEqual([r.code, r.stdout.trim()], [0, r.container], r.stderr);
      }
      const first = (await taskSlots()).get(1);
      assert.equal((await cli.ok(['exec', '-T', 'web', 'hostname'])).stdout.trim(), first, 'the index defaults to 1');
      const env = await cli.ok(['exec', '-T', '-e', 'GREETING=hi', '-w', '/www', 'web', 'sh', '-c', 'echo $GREETING $(pwd)']);
      assert.equal(env.stdout.trim(), 'hi /www');
      assert.equal((await cli.cmesh(['exec', '-T', 'web', 'sh', '-c', 'exit 3'])).code, 3);
      const missing = await cli.cmesh(['exec', '-T', '--index', '9', 'web', 'true']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /no task web-9 in swarm project/);
    });

    test('cp copies a file out of a task and into it', async () => {
      const slots = await taskSlots();
      await cli.ok(['cp', '--index', '2', 'web:/www/index.html', join(cli.work, 'served.html')]);
      assert.equal((await readFile(join(cli.work, 'served.html'), 'utf8')).trim(), slots.get(2));
      await writeFile(join(cli.work, 'note.txt'), 'from the host\n');
      await cli.ok(['cp', join(cli.work, 'note.txt'), 'web:/tmp/note.txt']);
      assert.equal((await cli.ok(['exec', '-T', 'web', 'cat', '/tmp/note.txt'])).stdout, 'from the host\n');
    });

    test('events: a killed task dies (exit 137) and its replacement starts in the same slot, healthy', async () => {
      const victim = (await taskSlots()).get(1)!;
      await run(['kill', '-s', 'KILL', victim]);
      const died = await until('the died event', 30_000, async () => of('container').find((e) => e.action === 'died' && e.container.startsWith(victim)), 200);
      assert.deepEqual([died.project, died.service, died.replica, died.exitCode], [project, 'web', 1, 137]);
      const replacement = await until('the replacement’s start', 60_000, async () => {
        const now = (await taskSlots()).get(1);
        return now && now !== victim ? of('container').find((e) => e.action === 'started' && e.replica === 1 && e.container.startsWith(now)) : undefined;
      }, 250);
      assert.match(replacement.name, new RegExp(`^${project}_web\\.1\\.\\w+$`));
      await until('the replacement’s healthcheck verdict', 30_000, async () => of('health').find((e) => e.source === 'engine' && e.healthy && e.replica === 1), 200);
    });

    test('events: a rolling update (a changed environment) is rollout start and done; scale is announced', async () => {
      const compose = join(cli.work, 'compose.yaml');
      await writeFile(compose, (await readFile(compose, 'utf8')).replace('    deploy:', '    environment: { VERSION: "2" }\n    deploy:'));
      await cli.ok(['up', '-d', '--wait', '--timeout', '120'], 180_000);
      await until('Swarm’s update to complete', 90_000, async () => (of('rollout').some((e) => e.phase === 'done') ? true : undefined), 250);
      assert.deepEqual(of('rollout').map((e) => [e.service, e.phase]), [['web', 'start'], ['web', 'done']]);
      await cli.ok(['scale', 'web=3', '--wait'], 120_000);
      await until('slot 3 started', 30_000, async () => (of('container').some((e) => e.action === 'started' && e.replica === 3) ? true : undefined), 200);
      assert.ok(of('project').some((e) => e.action === 'scaled' && e.services?.['web'] === 3), JSON.stringify(of('project')));
      assert.ok(events().every((e) => e.project === project), 'only this project’s events');
    });

    test('the text feed prints the same one-liners as on the local target', async () => {
      await until('the text feed to catch up', 10_000, async () => (text.includes('Rollout web  done') ? true : undefined), 200);
      const lines = text.split('\n');
      const line = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `${re} in:\n${text}`);
      line(new RegExp(`^\\S+Z ${project} Container ${project}_web\\.1\\.\\w+  Died \\(exit 137\\)$`));
      line(new RegExp(`^\\S+Z ${project} Container ${project}_web\\.3\\.\\w+  Started$`));
      line(new RegExp(`^\\S+Z ${project} Rollout web  start: Swarm rolling update started$`));
      line(new RegExp(`^\\S+Z ${project} Health web-1  healthy`));
    });
  });
}
