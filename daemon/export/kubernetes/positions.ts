// Points a warning at the compose key it is about (`services.web.volumes[2]` → that list item's line), not just the
// service. The normalized project keeps only the service's position, so the key is looked up in the files' text:
// the deepest node of the path any file has wins (a later file on a tie, as later files override), so a key that came
// through `extends`, a merge key or x-cmesh defaults falls back to the nearest ancestor the files do spell out.

import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { SourcePosition } from '../../api/errors.ts';
import type { ConfigWarning } from '../../api/project.ts';

export interface ComposeSource {
  file: string;
  text: string;
}

/** `services.web.x-cmesh.lb` / `services.web.volumes[2]` → segments; x-cmesh and develop keep their dots per key. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (m === null) return out;
    if (m[1] !== '') out.push(m[1] ?? '');
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** How deep the path goes in one document, and the start offset of the deepest key or item found. */
function walk(root: Node | null, path: (string | number)[]): { depth: number; offset: number } {
  let node: unknown = root;
  let found = { depth: 0, offset: -1 };
  for (const [i, seg] of path.entries()) {
    if (typeof seg === 'number' && isSeq(node)) {
      const item = node.items[seg];
      if (!isNode(item) || !item.range) break;
      found = { depth: i + 1, offset: item.range[0] };
      node = item;
    } else if (typeof seg === 'string' && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      const key = pair?.key;
      if (!isScalar(key) || !key.range) break;
      found = { depth: i + 1, offset: key.range[0] };
      node = pair?.value;
    } else break;
  }
  return found;
}

export function keyPosition(sources: readonly ComposeSource[], path: string): SourcePosition | undefined {
  const segs = segments(path);
  let best: { depth: number; pos: SourcePosition } | undefined;
  for (const src of sources) {
    const lines = new LineCounter();
    for (const doc of parseAllDocuments(src.text, { lineCounter: lines })) {
      if (!('contents' in doc)) continue;
      const { depth, offset } = walk(doc.contents, segs);
      // Deeper than the service itself (services.<name>), else the loader's own position is as good; a top-level
      // object (volumes.<name>) has no loader position, so its own key counts.
      if (depth <= (segs[0] === 'services' ? 2 : 1) || offset < 0 || (best !== undefined && depth < best.depth)) continue;
      const { line, col } = lines.linePos(offset);
      best = { depth, pos: { file: src.file, line, col } };
    }
  }
  return best?.pos;
}

/** The warnings with each position moved to its key where the files spell it out. */
export function pointAtKeys(warnings: readonly ConfigWarning[], sources: readonly ComposeSource[]): ConfigWarning[] {
  return warnings.map((w) => {
    const pos = w.path === undefined ? undefined : keyPosition(sources, w.path);
    return pos === undefined ? w : { ...w, position: pos };
  });
}
