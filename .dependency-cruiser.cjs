// Import rules for `npm run lint` (`npm run lint:imports`): the layers of the README's layout, for sources and tests
// alike. A violation is fixed by moving code (shared types into their own module), not by an exception here.
//
// Parser: swc. dependency-cruiser 17 reads TypeScript only through the `typescript` package at <7, and this repo's
// compiler is TypeScript 7 (a native binary with no compiler API); without swc it falls back to a loose JavaScript
// parse of the raw TypeScript that silently drops edges (every `export type … from`); dependency-cruiser 18 needs
// node >=22. swc records `import type` as a plain import: a type-only cycle or a layer
// crossed by types only is still a design dependency (the contract would change with the module it names), so the
// rules below deliberately count them. swc in 17.x cannot read JSX: patches/dependency-cruiser+17.4.3.patch backports
// upstream's fix (dependency-cruiser#1086) and `npm install`/`npm ci` apply it (package.json "prepare": patch-package).
// test/lint/import-rules.test.ts proves the check sees every tracked .ts/.tsx file and fails on planted violations.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only ones included): move the shared types into a module both sides import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'dockerode-only-in-engine',
      severity: 'error',
      comment: 'Only daemon/engine/ talks to the Docker API; everything else uses the ContainerEngine port.',
      from: { pathNot: '^daemon/engine/' },
      to: { path: '(^|/)node_modules/(@types/)?(dockerode|docker-modem)/' },
    },
    {
      name: 'builder-mesh-only-daemon-api',
      severity: 'error',
      comment: 'builder/ and mesh/ see the daemon only through its contract in daemon/api/.',
      from: { path: '^(builder|mesh)/' },
      to: { path: '^daemon/', pathNot: '^daemon/api/' },
    },
    {
      name: 'contract-is-self-contained',
      severity: 'error',
      comment: 'daemon/api/ is what every layer imports: it may import only itself, node built-ins and packages.',
      from: { path: '^daemon/api/' },
      to: { pathNot: ['^daemon/api/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'cli-only-daemon-api-config-export',
      severity: 'error',
      comment: 'The CLI talks to the daemon through daemon/api/; it also loads compose files (daemon/config/) and converts them (daemon/export/) itself.',
      from: { path: '^cli/' },
      to: { path: '^daemon/', pathNot: '^daemon/(api|config|export)/' },
    },
    {
      name: 'export-only-daemon-api-and-config',
      severity: 'error',
      comment: 'Exporters are pure conversions of a loaded project: they see the contract (daemon/api/) and the loader (daemon/config/), nothing that runs.',
      from: { path: '^daemon/export/' },
      to: { path: '^(daemon|cli|mesh|builder|bench|scripts)/', pathNot: '^daemon/(api|config|export)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the cruiser cannot resolve is a hole in the graph the rules above would not see.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    // Externals stay in the graph as leaves (the dockerode rule needs them) but are not walked.
    doNotFollow: { path: '(^|/)node_modules/' },
    // Dependencies resolve like node: our imports name the .ts file; packages resolve through their exports.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    // ES modules plus the odd createRequire'd require(); no AMD or triple-slash references in this tree.
    moduleSystems: ['es6', 'cjs'],
  },
};
