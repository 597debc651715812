// Issue 14 acceptance for exec / run / cp / rm on the real engine, through the real CLI and daemon: exit codes pass
// through (TTY under `script`, and without), stdin is forwarded, `run` starts dependencies, gives the one-off no service
// alias and no replica identity, `--rm` leaves nothing (also on Ctrl-C), `cp` round-trips, `rm` removes stopped ones.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, type CmeshCli, newCmeshCli, projectContainers, until } from '../helpers/cmesh-cli.ts';
import { ensureBaseImages, newRunId, requireDocker, ROOT, RUN_LABEL, run, TEST_LABEL, dockerTestFile } from '../helpers/docker.ts';

await dockerTestFile();

const runId = newRunId('verbs');
const project = runId;
const IMAGE = 'cmesh/busybox:local';
let cli: CmeshCli;

const labels = `    labels:
      ${TEST_LABEL}: "true"
      ${RUN_LABEL}: ${runId}
`;
const sleeper = (name: string, extra = '') => `  ${name}:
    image: ${IMAGE}
    command: ["sleep", "300"]
    stop_grace_period: 1s
${extra}${labels}`;

/** The CLI with `input` on its stdin (then EOF), like `echo … | cmesh …`. */
function cmeshWithInput(args: string[], input: string, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), ...args], { cwd: cli.work, env: cli.env(), timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * The CLI on a pseudo-terminal (util-linux `script`; -e returns the command's exit code). A leading `--tty-size`
 * first sets the terminal to 33 rows and 101 columns (script's own pty has no size here).
 */
function cmeshOnTty(allArgs: string[], timeoutMs = 60_000, input = ''): Promise<CliResult> {
  const sized = allArgs[0] === '--tty-size';
  const args = sized ? allArgs.slice(1) : allArgs;
  const line = [process.execPath, join(ROOT, 'bin/cmesh.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const quoted = sized ? `stty rows 33 cols 101; ${line}` : line;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', quoted, '/dev/null'], { cwd: cli.work, env: { ...cli.env(), TERM: 'xterm' }, timeout: timeoutMs });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    // Typed a moment after the prompt is up, as a person would (script forwards it to the terminal).
    if (input === '') child.stdin.end();
    else setTimeout(() => child.stdin.end(input), 1500);
  });
}

const oneOffs = () => projectContainers(project, ['--filter', 'label=dev.cmesh.oneoff=true']);

before(async () => {
  await requireDocker();
  await ensureBaseImages();
  cli = await newCmeshCli();
  await cli.writeCompose(project, `${sleeper('app', '    depends_on: [db]\n')}${sleeper('db')}${sleeper('tool')}`);
});

after(async () => {
  await cli?.teardown(project, runId);
});

test('run starts the dependencies first, passes the exit code, and --rm leaves nothing behind', { timeout: 120_000 }, async () => {
  const r = await cli.cmesh(['run', '--rm', '-e', 'GREETING=from-run', 'app', 'sh', '-c', 'echo "$GREETING"; echo oops >&2; exit 4']);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, 'from-run\n');
  assert.match(r.stderr, /oops/);
  assert.deepEqual(await oneOffs(), [], '--rm removed the one-off');
  const ps = await cli.ps();
  assert.deepEqual(ps.filter((p) => p.state === 'running').map((p) => p.service), ['db'], 'db came up as a dependency; app did not');
});

test('exec: exit codes, stdout/stderr apart, -e/-w/-u, --index, stdin forwarded', { timeout: 120_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  const r = await cli.cmesh(['exec', '-T', 'app', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  const env = await cli.ok(['exec', '-T', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1234', '--index', '1', 'app', 'sh', '-c', 'echo $FOO $(pwd) $(id -u)']);
  assert.equal(env.stdout, 'bar /tmp 1234\n');
  const piped = await cmeshWithInput(['exec', '-T', 'app', 'cat'], 'through stdin\n');
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'through stdin\n');
  const detached = await cli.ok(['exec', '-d', 'app', 'sh', '-c', 'sleep 1; echo later > /tmp/detached']);
  assert.equal(detached.stdout, '', 'detached: returns at once, no output');
  await until('the detached command to finish', 15_000, async () => {
    const r = await cli.cmesh(['exec', '-T', 'app', 'cat', '/tmp/detached']);
    return r.stdout === 'later\n' ? true : undefined;
  }, 300);
  const missing = await cli.cmesh(['exec', '--index', '9', 'app', 'true']);
  assert.equal(missing.code, 7, 'no such replica: not found');
  assert.match(missing.stderr, /CMESH_E_SERVICE_NOT_FOUND/);
});

test('exec and run on a TTY: a pseudo-terminal, exit code passed through', { timeout: 120_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  const exec = await cmeshOnTty(['exec', 'app', 'sh', '-c', 'tty; exit 5']);
  assert.equal(exec.code, 5, exec.stdout);
  assert.match(exec.stdout, /\/dev\/pts\/\d+/);
  const execNoTty = await cmeshOnTty(['exec', '-T', 'app', 'sh', '-c', 'tty; exit 0']);
  assert.match(execNoTty.stdout, /not a tty/);
  const runTty = await cmeshOnTty(['run', '--rm', 'app', 'sh', '-c', 'tty; exit 6']);
  assert.equal(runTty.code, 6, runTty.stdout);
  assert.match(runTty.stdout, /\/dev\/pts\/\d+/);
  assert.deepEqual(await oneOffs(), []);
});

test('a TTY takes the terminal’s size', { timeout: 120_000 }, async () => {
  // Engine API 1.41 has no size at create: the resize follows the start, so the command waits a moment for it.
  const sized = (args: string[]) => cmeshOnTty(['--tty-size', ...args]);
  const exec = await sized(['exec', 'app', 'sh', '-c', 'sleep 1; stty size']);
  assert.match(exec.stdout, /\b33 101\b/);
  const runSized = await sized(['run', '--rm', 'app', 'sh', '-c', 'sleep 1; stty size']);
  assert.match(runSized.stdout, /\b33 101\b/);
});

test('a one-off has no service alias, is not a replica, and survives reconcile passes until down', { timeout: 120_000 }, async () => {
  const name = `${runId}-keep`;
  const started = await cli.ok(['run', '-d', '--name', name, 'app', 'sleep', '300']);
  assert.equal(started.stdout.trim(), name);
  const inspected = JSON.parse(await run(['inspect', name])) as {
    Config: { Labels: Record<string, string> };
    NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
  }[];
  const info = inspected[0]!;
  assert.equal(info.Config.Labels['dev.cmesh.oneoff'], 'true');
  assert.equal(info.Config.Labels['dev.cmesh.service'], undefined, 'no replica identity');
  for (const net of Object.values(info.NetworkSettings.Networks)) assert.ok(!(net.Aliases ?? []).includes('app'), 'no service alias');
  // A reconcile pass (scale is one) must neither adopt it as a replica nor remove it as an orphan.
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  assert.equal((await cli.ps()).filter((p) => p.service === 'app').length, 1, 'still one app replica');
  assert.equal((await oneOffs()).length, 1, 'the one-off is still there');
  const ip = JSON.parse(await run(['inspect', '-f', '{{json .NetworkSettings.Networks}}', name])) as Record<string, unknown>;
  assert.ok(Object.keys(ip).length > 0, 'on the project network');
});

test('run --rm: Ctrl-C of the CLI stops and removes the one-off', { timeout: 120_000 }, async () => {
  const before = new Set(await oneOffs());
  const child = spawn(process.execPath, [join(ROOT, 'bin/cmesh.js'), 'run', '--rm', 'app', 'sleep', '300'], { cwd: cli.work, env: cli.env() });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const mine = await until('the one-off to run', 60_000, async () => {
    const ids = (await oneOffs()).filter((id) => !before.has(id));
    if (ids.length !== 1) return undefined;
    const state = (await run(['inspect', '-f', '{{.State.Status}}', ids[0]!])).trim();
    return state === 'running' ? ids[0] : undefined;
  }, 200);
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  await until('the one-off to be removed', 30_000, async () => ((await oneOffs()).includes(mine) ? undefined : true), 200);
});

test('cp round-trips a file both ways, into a path or a directory', { timeout: 120_000 }, async () => {
  const content = `cmesh cp ${runId}\n`;
  await writeFile(join(cli.work, 'note.txt'), content);
  await cli.ok(['cp', './note.txt', 'app:/tmp/copied.txt']);
  assert.equal((await cli.ok(['exec', '-T', 'app', 'cat', '/tmp/copied.txt'])).stdout, content);
  await cli.ok(['cp', 'note.txt', 'app:/tmp']);
  assert.equal((await cli.ok(['exec', '-T', 'app', 'cat', '/tmp/note.txt'])).stdout, content, 'an existing directory gets the file inside');
  await cli.ok(['cp', 'app:/tmp/copied.txt', './back.txt']);
  assert.equal(await readFile(join(cli.work, 'back.txt'), 'utf8'), content);
  const missing = await cli.cmesh(['cp', 'app:/tmp/nope.txt', './x']);
  assert.notEqual(missing.code, 0);
  const both = await cli.cmesh(['cp', 'app:/a', 'db:/b']);
  assert.equal(both.code, 2, 'usage error');
});

test('rm removes stopped containers; without a terminal it wants -f', { timeout: 120_000 }, async () => {
  await cli.ok(['up', '-d', '--wait', '--timeout', '60']);
  const nothing = await cli.ok(['rm', '-f', 'tool']);
  assert.match(nothing.stderr, /No stopped containers/);
  await cli.ok(['stop', 'tool']);
  const asked = await cli.cmesh(['rm', 'tool']);
  assert.equal(asked.code, 2, asked.stderr);
  assert.match(asked.stderr, /CMESH_E_USAGE[\s\S]*-f/);
  // On a terminal it asks: "n" keeps the container, "y" removes it.
  const declined = await cmeshOnTty(['rm', 'tool'], 60_000, 'n\r');
  assert.match(declined.stdout, /Are you sure\? \[yN\]/);
  assert.equal((await projectContainers(project, ['--filter', 'label=dev.cmesh.service=tool'])).length, 1, 'kept');
  const confirmed = await cmeshOnTty(['rm', 'tool'], 60_000, 'y\r');
  assert.equal(confirmed.code, 0, confirmed.stdout);
  assert.deepEqual(await projectContainers(project, ['--filter', 'label=dev.cmesh.service=tool']), [], confirmed.stdout);
  await cli.ok(['up', '-d', '--wait', '--timeout', '60', 'tool']);
  await cli.ok(['stop', 'tool']);
  const removed = await cli.ok(['rm', '-f', 'tool']);
  assert.match(removed.stderr, new RegExp(`${project}-tool-1\\s+Removed`));
  assert.deepEqual(await projectContainers(project, ['--filter', 'label=dev.cmesh.service=tool']), []);
  // Desired stopped: the loop does not bring it back.
  await cli.ok(['ps']);
  assert.deepEqual(await projectContainers(project, ['--filter', 'label=dev.cmesh.service=tool']), []);
  // -s stops first.
  await cli.ok(['rm', '-f', '-s', 'db']);
  assert.deepEqual(await projectContainers(project, ['--filter', 'label=dev.cmesh.service=db']), []);
});

test('down removes the project’s one-offs', { timeout: 120_000 }, async () => {
  assert.equal((await oneOffs()).length, 1, 'the detached one-off from before');
  await cli.ok(['down']);
  assert.deepEqual(await projectContainers(project), []);
});
