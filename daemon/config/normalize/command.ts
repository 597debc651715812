// `command`-like values (command, entrypoint, lifecycle hooks): a string is shell-split, a list taken as-is.

import type { YNode } from '../node.ts';
import type { PathSeg } from '../positions.ts';
import { type Ctx, readStringList } from './read.ts';
import { shellSplit } from './shell-split.ts';

export /** A string is shell-split like Compose; a list is taken as-is; null means unset. */
function readCommand(ctx: Ctx, node: YNode, path: PathSeg[]): string[] | undefined {
  if (node.kind === 'scalar' && node.value === null) return undefined;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    const r = shellSplit(node.value);
    if ('error' in r) {
      ctx.issues.error(node.pos, path, `cannot split command: ${r.error}`, 'close the quote, or use the list form ["cmd", "arg"]');
      return undefined;
    }
    return r.words;
  }
  return readStringList(ctx, node, path, { coerce: true });
}
