// esbuild options for cmesh's bundles (bundle-cache.mjs builds with them): code splitting for the CLI, lazy shims for
// dockerode's SSH/BuildKit modules, import.meta.url kept per source, and the banner every output file starts with;
// and the CLI's fast bundle (fastBuildOptions). Plain JS for the same reason as bundle-cache.mjs.

import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHUNK_HOOK } from './bundle-chunks.mjs';

const LAZY = ['dockerode/lib/session.js', 'dockerode/lib/buildkit.js', 'docker-modem/lib/ssh.js'].map((p) => `node_modules${sep}${p.split('/').join(sep)}`);
/** Reached only through a lazy shim (native or data-file based): required from node_modules by absolute path. */
const EXTERNAL_PACKAGES = new Set(['ssh2', 'cpu-features', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs']);
// Spelled in two parts so the import.meta rewrite below never touches this file's own text when it is bundled.
const META_URL = ['import', 'meta', 'url'].join('.');

// commander requires node:child_process at load time (with dgram, ~5 ms of every CLI start) for executable
// subcommands, which cmesh never defines: its one use, `childProcess.spawn`, loads the module when called.
const COMMANDER = `node_modules${sep}commander${sep}lib${sep}command.js`;
const EAGER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const LAZY_CHILD_PROCESS = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";

const lazyShim = (real) => `// cmesh: ${real} is loaded on first use (see bin/bundle-cache.mjs).
const load = () => require(${JSON.stringify(real)});
module.exports = new Proxy(function lazy() {}, {
  apply: (_t, self, args) => Reflect.apply(load(), self, args),
  construct: (_t, args) => Reflect.construct(load(), args),
  get: (_t, key) => load()[key],
});
`;

/** What every bundle shares: `entry` and its imports for this node, the inputs in esbuild's metafile, nothing written. */
const baseOptions = (root, entry) => ({
  entryPoints: [join(root, entry)],
  bundle: true,
  platform: 'node',
  target: `node${process.versions.node.split('.')[0]}`,
  write: false,
  metafile: true,
  absWorkingDir: root,
  logLevel: 'silent',
  // React and its reconciler ship development and production builds behind NODE_ENV: keep only production (the CLI
  // bundle shrinks by ~1 MB, which every command start pays to compile).
  define: { 'process.env.NODE_ENV': '"production"' },
  tsconfig: join(root, 'tsconfig.json'),
});

export function buildOptions(root, name, entry, dir, externals, split) {
  return {
    ...baseOptions(root, entry),
    format: 'esm',
    // Code splitting (the CLI): what a verb imports dynamically (the dashboard's ink and React, the JUnit writer's XML
    // library, the compose loader's YAML parser, the file watcher) lands in chunks loaded on first use, so a plain
    // `cmesh ps` compiles ~0.2 MB instead of ~2.5 MB on every start. The files are installed together in one
    // hash-named dir. Not the daemon: it runs for days and must never find a chunk gone after a rebuild.
    splitting: split,
    outdir: join(dir, name),
    entryNames: 'main',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    // ink (cmesh dash) imports its devtools bridge only under DEV=true; that package is not installed: stub it.
    alias: { 'react-devtools-core': join(root, 'bin', 'devtools-stub.mjs') },
    // Bundled CommonJS calls require(): give the ESM bundle a real one.
    // Split bundles: each chunk first asks bundle-chunks.mjs's hook whether its lazily checked inputs are unchanged.
    banner: {
      js: `${split ? `globalThis.${CHUNK_HOOK}?.(${META_URL}); ` : ''}import { createRequire as __cmeshCreateRequire } from 'node:module'; const require = __cmeshCreateRequire(${META_URL});`,
    },
    plugins: [
      {
        name: 'cmesh-bundle',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.path.startsWith('node:') || args.pluginData === 'cmesh-resolved' || args.kind === 'entry-point') return undefined;
            const parts = args.path.split('/');
            const pkg = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
            const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'cmesh-resolved' });
            // An optional dependency that is not installed (ink's react-devtools-core, behind DEV=true): esbuild would
            // hoist it to a top-level import of the bundle and fail every start; this module throws only when reached.
            if (r.errors.length > 0) return { path: args.path, namespace: 'cmesh-missing' };
            if (r.external || !EXTERNAL_PACKAGES.has(pkg)) return undefined;
            externals.add(r.path);
            return { path: r.path, external: true };
          });
          b.onLoad({ filter: /.*/, namespace: 'cmesh-missing' }, (args) => ({
            contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find package '${args.path}' (not installed)`)}), { code: 'MODULE_NOT_FOUND' });\n`,
            loader: 'js',
          }));
          b.onLoad({ filter: /\.js$/ }, (args) => {
            if (args.path.endsWith(COMMANDER)) {
              const source = readFileSync(args.path, 'utf8');
              // Another commander version may spell it differently: then it stays as it is (slower, still correct).
              return source.includes(EAGER_CHILD_PROCESS) ? { contents: source.replace(EAGER_CHILD_PROCESS, LAZY_CHILD_PROCESS), loader: 'js' } : undefined;
            }
            if (!LAZY.some((suffix) => args.path.endsWith(suffix))) return undefined;
            externals.add(args.path);
            return { contents: lazyShim(args.path), loader: 'js' };
          });
          b.onLoad({ filter: /\.tsx?$/ }, (args) => ownImportMetaUrl(root, args));
        },
      },
    ],
  };
}

// Each of our sources keeps its own import.meta.url (package.json, the repo root are found through it). Ours are those
// under the package root but not in its node_modules: an installed cmesh's root is itself inside a node_modules.
function ownImportMetaUrl(root, args) {
  if (relative(root, args.path).split(sep).includes('node_modules')) return undefined;
  const source = readFileSync(args.path, 'utf8');
  const contents = source.replaceAll(META_URL, JSON.stringify(pathToFileURL(args.path).href));
  return { contents, loader: args.path.endsWith('.tsx') ? 'tsx' : args.path.endsWith('.ts') ? 'ts' : 'js' };
}

/** What a dynamic import outside the fast bundle throws (cli/fast-path.ts: FAST_PATH_MISS): the full CLI takes over. */
const FAST_PATH_MISS = 'CMESH_FAST_PATH_MISS';
/** Dynamically imported modules the fast bundle holds all the same: `up -d --wait`'s smoke test and its TLS probe. */
const FAST_LAZY = ['cli/ci/ci-wait.ts', 'cli/ci/tls-probe.ts'];

/**
 * The CLI's fast bundle: `entry` (cli/fast-entry.ts) as one CommonJS file, which bin/cmesh.js requires without starting
 * node's ESM loader. CommonJS cannot split, so what the graph imports dynamically would be inlined (the compose loader,
 * zod, YAML: ~2 MB to parse on every start); instead a dynamic import of bin/'s plain JS (the daemon's auto-start
 * builds its bundle) loads that file at run time, one in FAST_LAZY is inlined to run when first imported, and any other
 * one throws FAST_PATH_MISS: the fast path runs only where it needs none of them, and hands the command to the full CLI
 * if one is reached before it wrote anything.
 */
export function fastBuildOptions(root, entry, dir) {
  const bin = join(root, 'bin');
  const daemonClient = join(resolve(root), 'cli', 'daemon-client.ts');
  return {
    ...baseOptions(root, entry),
    format: 'cjs',
    outfile: join(dir, 'fast.cjs'),
    plugins: [
      {
        name: 'cmesh-fast-bundle',
        setup(b) {
          // The daemon client's one request over node:net instead of node:http's modules, parser and agent
          // (cli/fast-http.ts): in this bundle only, where the requests are `ps` and `up -d`'s.
          b.onResolve({ filter: /^node:http$/ }, (args) => (args.importer === daemonClient ? { path: join(root, 'cli', 'fast-http.ts') } : undefined));
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind !== 'dynamic-import' || args.pluginData === 'cmesh-resolved') return undefined;
            // A dynamic import() of a builtin would start node's ESM loader (~10 ms) just to hand back the module.
            if (args.path.startsWith('node:')) return { path: args.path, namespace: 'cmesh-builtin' };
            // pluginData marks esbuild's own resolution, which would otherwise come back here.
            const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'cmesh-resolved' });
            if (r.errors.length === 0 && !relative(bin, r.path).startsWith('..') && r.path.endsWith('.mjs')) {
              return { path: pathToFileURL(r.path).href, external: true };
            }
            // Inlined, yet run only when imported (esbuild's lazy init): `up --wait`'s verdict code (small).
            if (r.errors.length === 0 && FAST_LAZY.includes(relative(root, r.path).split(sep).join('/'))) return { path: r.path };
            return { path: args.path, namespace: 'cmesh-fast-miss' };
          });
          b.onLoad({ filter: /.*/, namespace: 'cmesh-builtin' }, (args) => ({
            contents: `export * from '${args.path}';\nexport { default } from '${args.path}';\n`,
            loader: 'js',
          }));
          b.onLoad({ filter: /.*/, namespace: 'cmesh-fast-miss' }, (args) => ({
            contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not in the CLI's fast bundle`)}), { code: '${FAST_PATH_MISS}' });\n`,
            loader: 'js',
          }));
          b.onLoad({ filter: /\.(tsx?|mjs)$/ }, (args) => ownImportMetaUrl(root, args));
        },
      },
    ],
  };
}

