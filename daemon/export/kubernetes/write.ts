// Output of the export: `<kind>-<name>.yaml` per object for -o DIR, or one `---`-separated stream for stdout.

import { stringify } from 'yaml';
import type { KubeObject } from './export.ts';

/** `deployment-web.yaml`: lower-case kind, then the object's name (names are already DNS labels). */
export function fileNameOf(o: KubeObject): string {
  return `${o.kind.toLowerCase()}-${o.metadata?.name ?? 'unnamed'}.yaml`;
}

/** One object as a YAML document; key order is the model's (apiVersion, kind, metadata, spec), lines never folded. */
export function toYaml(o: KubeObject): string {
  return stringify(o.toJSON(), { lineWidth: 0 });
}

/** Every object in one stream, each document opened by `---`. */
export function toYamlStream(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${toYaml(o)}`).join('');
}

/** File name → content for `-o DIR` (exportKubernetes already refused two objects of one kind and name). */
export function toFiles(objects: readonly KubeObject[]): Map<string, string> {
  return new Map(objects.map((o) => [fileNameOf(o), toYaml(o)]));
}
