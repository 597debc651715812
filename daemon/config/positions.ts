// Document paths (`services.web.ports[1]`) and offset→line:col mapping shared by every stage.

import type { SourcePosition } from '../api/errors.ts';

export type PathSeg = string | number;

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** Renders a path the way users read it: dots for plain keys, brackets for indexes and odd keys. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Maps byte offsets of one text to 1-based line/col; binary search over line starts, built once. */
export class OffsetMapper {
  private readonly starts: number[] = [0];
  constructor(
    readonly file: string,
    text: string,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - (this.starts[lo] ?? 0) + 1 };
  }
}
