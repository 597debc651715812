// Public surface of the config loader; everything else in daemon/config is internal.

export { type LoadOptions, loadProject, loadProjectFromSources, type SourceFile, type SourceLoadOptions } from './load.ts';
export { projectToComposeYaml } from './render-yaml.ts';
export { discoverComposeFiles } from './discover.ts';
export { parseEnvFile } from './env-file.ts';
export { interpolate } from './interpolate.ts';
