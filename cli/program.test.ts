import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CmeshError } from '../daemon/api/errors.ts';
import type { LoadedProject, ProjectSpec } from '../daemon/api/project.ts';
import { type ConfigDeps, keySummary } from './commands/config.ts';
import type { ProjectSelection } from './global-options.ts';
import { buildProgram, runCli } from './program.ts';
import { renderCmeshError } from './render-error.ts';
import { captureContext } from './test-helpers.ts';
import { readVersion } from './version.ts';

// The config verb only reads names from the project, so a partial model is enough here.
function fakeProject(): ProjectSpec {
  return {
    name: 'demo',
    workingDir: '/tmp/demo',
    files: ['/tmp/demo/compose.yaml'],
    services: { web: {}, db: {} },
    networks: {},
    volumes: { data: {} },
    profiles: [],
    extensions: {},
  } as unknown as ProjectSpec;
}

function fakeLoader(result: LoadedProject | CmeshError, seen: ProjectSelection[] = []): ConfigDeps {
  return {
    async loadProject(options) {
      seen.push(options);
      if (result instanceof CmeshError) throw result;
      return result;
    },
    projectToComposeYaml: (project) => `name: ${project.name}\nservices:\n  web:\n    image: nginx\n`,
  };
}

describe('program basics', () => {
  it('--version prints package.json version and exits 0', async () => {
    const ctx = captureContext();
    assert.equal(await runCli(['--version'], ctx), 0);
    assert.equal(ctx.out(), `${readVersion()}\n`);
    assert.match(readVersion(), /^\d+\.\d+\.\d+/);
  });

  it('--help lists config and version and the global options, exit 0', async () => {
    const ctx = captureContext();
    assert.equal(await runCli(['--help'], ctx), 0);
    for (const word of ['config', 'version', '--file', '--project-name', '--profile', '--no-color']) {
      assert.ok(ctx.out().includes(word), `help mentions ${word}`);
    }
  });

  it('an unknown verb is a usage error with a suggestion', async () => {
    const ctx = captureContext();
    assert.equal(await runCli(['confi'], ctx), 2);
    assert.match(ctx.err(), /unknown command 'confi'/);
    assert.match(ctx.err(), /Did you mean config\?/);
  });

  it('an unknown option and excess arguments are usage errors', async () => {
    assert.equal(await runCli(['config', '--servics'], captureContext()), 2);
    assert.equal(await runCli(['config', 'extra'], captureContext()), 2);
  });

  it('no verb shows help on stderr with exit 2', async () => {
    const ctx = captureContext();
    assert.equal(await runCli([], ctx), 2);
    assert.match(ctx.err(), /Usage: cmesh/);
  });

  it('version --json', async () => {
    const ctx = captureContext();
    assert.equal(await runCli(['version', '--json'], ctx), 0);
    assert.equal(JSON.parse(ctx.out()).version, readVersion());
  });
});

describe('errors', () => {
  const configError = new CmeshError('CMESH_E_CONFIG_INVALID', 'compose.yaml has 1 problem', {
    hint: 'see the supported keys in README.md',
    issues: [
      {
        message: 'expected a port number',
        path: 'services.web.ports[0]',
        position: { file: 'compose.yaml', line: 4, col: 9 },
        hint: 'use "8080:80"',
      },
    ],
  });

  it('renders a CmeshError compiler-style and exits with its code', async () => {
    const ctx = captureContext({ overrides: { config: fakeLoader(configError) } });
    assert.equal(await runCli(['config'], ctx), 3);
    assert.equal(
      ctx.err(),
      [
        'error[CMESH_E_CONFIG_INVALID]: compose.yaml has 1 problem',
        '  compose.yaml:4:9  services.web.ports[0]: expected a port number',
        '    hint: use "8080:80"',
        'hint: see the supported keys in README.md',
        '',
      ].join('\n'),
    );
    assert.equal(ctx.out(), '');
  });

  it('renders errors as JSON on stderr when the command has --json', async () => {
    const ctx = captureContext({ overrides: { config: fakeLoader(configError) } });
    assert.equal(await runCli(['config', '--json'], ctx), 3);
    const parsed = JSON.parse(ctx.err());
    assert.equal(parsed.error.code, 'CMESH_E_CONFIG_INVALID');
    assert.deepEqual(parsed.error.issues[0].position, { file: 'compose.yaml', line: 4, col: 9 });
  });

  it('prints the warnings a failed load carries, and a hint repeated by an issue only once', async () => {
    const err = new CmeshError('CMESH_E_CONFIG_INVALID', 'bad port', {
      hint: 'use "8080:80"',
      issues: [{ message: 'bad port', path: 'services.web.ports[0]', hint: 'use "8080:80"' }],
      details: { warnings: [{ message: 'unknown key "foo" is ignored', path: 'services.web.foo' }] },
    });
    const ctx = captureContext({ overrides: { config: fakeLoader(err) } });
    assert.equal(await runCli(['config'], ctx), 3);
    assert.equal(
      ctx.err(),
      [
        'warning: services.web.foo: unknown key "foo" is ignored',
        'error[CMESH_E_CONFIG_INVALID]: bad port',
        '  services.web.ports[0]: bad port',
        '    hint: use "8080:80"',
        '',
      ].join('\n'),
    );
  });

  it('colours errors only when asked for', () => {
    assert.doesNotMatch(renderCmeshError(configError), /\u001b\[/);
    assert.match(renderCmeshError(configError, { color: true }), /\u001b\[31m/);
  });

  it('a non-CmeshError is a bug: message, stack, report line, exit 70', async () => {
    const ctx = captureContext();
    const program = buildProgram(ctx);
    program.command('boom').action(() => {
      throw new TypeError('kaboom', { cause: new Error('root cause') });
    });
    assert.equal(await runCli(['boom'], ctx, program), 70);
    assert.match(ctx.err(), /^cmesh hit a bug: kaboom\n/);
    assert.match(ctx.err(), /TypeError: kaboom\n\s+at /);
    assert.match(ctx.err(), /Caused by: Error: root cause/);
    assert.match(ctx.err(), /Please report it/);
  });

  it('a bug under --json is JSON with code CMESH_E_BUG', async () => {
    const ctx = captureContext();
    const program = buildProgram(ctx);
    program
      .command('boom')
      .option('--json')
      .action(async () => {
        throw new Error('async kaboom');
      });
    assert.equal(await runCli(['boom', '--json'], ctx, program), 70);
    const parsed = JSON.parse(ctx.err());
    assert.equal(parsed.error.code, 'CMESH_E_BUG');
    assert.match(parsed.error.details.stack, /async kaboom/);
  });
});

describe('config (fake loader)', () => {
  const loaded: LoadedProject = {
    project: fakeProject(),
    warnings: [
      { message: 'unknown key, ignored', path: 'services.web.foo', position: { file: 'compose.yaml', line: 3, col: 5 } },
      { message: 'no position' },
    ],
  };

  it('passes global options through, repeatable ones collected in order', async () => {
    const seen: ProjectSelection[] = [];
    const ctx = captureContext({ cwd: '/somewhere', env: { A: '1' }, overrides: { config: fakeLoader(loaded, seen) } });
    const argv = ['-f', 'a.yaml', 'config', '-f', 'b.yaml', '--profile', 'x', '--profile', 'y', '-p', 'proj'];
    assert.equal(await runCli([...argv, '--env-file', 'e1', '--env-file', 'e2', '--project-directory', 'd', '-q'], ctx), 0);
    assert.deepEqual(seen, [
      {
        cwd: '/somewhere',
        env: { A: '1' },
        files: ['a.yaml', 'b.yaml'],
        projectName: 'proj',
        projectDirectory: 'd',
        envFiles: ['e1', 'e2'],
        profiles: ['x', 'y'],
      },
    ]);
  });

  it('leaves unset options out so the loader applies its defaults', async () => {
    const seen: ProjectSelection[] = [];
    await runCli(['config', '-q'], captureContext({ cwd: '/w', overrides: { config: fakeLoader(loaded, seen) } }));
    assert.deepEqual(seen, [{ cwd: '/w', env: {} }]);
  });

  it('prints warnings on stderr and YAML on stdout', async () => {
    const ctx = captureContext({ overrides: { config: fakeLoader(loaded) } });
    assert.equal(await runCli(['config'], ctx), 0);
    assert.equal(ctx.out(), 'name: demo\nservices:\n  web:\n    image: nginx\n');
    assert.equal(
      ctx.err(),
      'warning: compose.yaml:3:5 services.web.foo: unknown key, ignored\nwarning: no position\n',
    );
  });

  it('--json prints the same document as JSON', async () => {
    const ctx = captureContext({ overrides: { config: fakeLoader(loaded) } });
    assert.equal(await runCli(['config', '--json'], ctx), 0);
    assert.deepEqual(JSON.parse(ctx.out()), { name: 'demo', services: { web: { image: 'nginx' } } });
  });

  it('--services, --volumes and -q', async () => {
    const run = async (...args: string[]) => {
      const ctx = captureContext({ overrides: { config: fakeLoader(loaded) } });
      assert.equal(await runCli(['config', ...args], ctx), 0);
      return ctx.out();
    };
    assert.equal(await run('--services'), 'web\ndb\n');
    assert.equal(await run('--volumes'), 'data\n');
    assert.deepEqual(JSON.parse(await run('--services', '--json')), ['web', 'db']);
    assert.equal(await run('-q'), '');
    assert.equal(await run('--quiet'), '');
  });

  it('ends with one summary line on stderr: keys honoured and which are ignored, in every output mode', async () => {
    const keys = { honoured: 41, ignored: ['services.web.cap_add', 'services.web.init'] };
    for (const args of [[], ['--json'], ['--services'], ['-q']]) {
      const ctx = captureContext({ overrides: { config: fakeLoader({ ...loaded, keys }) } });
      assert.equal(await runCli(['config', ...args], ctx), 0);
      const lines = ctx.err().trimEnd().split('\n');
      assert.equal(lines.at(-1), 'config: 41 compose keys honoured, 2 ignored (services.web.cap_add, services.web.init)', args.join(' '));
      assert.equal(lines.length, 3, 'the two warnings, then the summary');
    }
    const many = { honoured: 1, ignored: Array.from({ length: 12 }, (_, i) => `k${i}`) };
    assert.equal(keySummary(many), 'config: 1 compose key honoured, 12 ignored (k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, and 2 more)');
    assert.equal(keySummary({ honoured: 3, ignored: [] }), 'config: 3 compose keys honoured, none ignored');
  });

  it('colours warnings only with FORCE_COLOR and never with --no-color', async () => {
    const coloured = captureContext({ env: { FORCE_COLOR: '1' }, overrides: { config: fakeLoader(loaded) } });
    await runCli(['config', '-q'], coloured);
    assert.match(coloured.err(), /\u001b\[33mwarning/);
    const plain = captureContext({ env: { FORCE_COLOR: '1' }, overrides: { config: fakeLoader(loaded) } });
    await runCli(['--no-color', 'config', '-q'], plain);
    assert.doesNotMatch(plain.err(), /\u001b\[/);
  });
});
