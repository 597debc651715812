// Compose variable interpolation (`${VAR:-default}` and friends) for one string, with nested defaults.
// Pure: the caller supplies lookup and decides how to report what went wrong.

export type Lookup = (name: string) => string | undefined;

export interface InterpolationProblem {
  /** `required`: a `?`/`:?` variable was unset; `syntax`: a malformed `${...}`. */
  kind: 'required' | 'syntax';
  variable?: string;
  message: string;
}

export interface InterpolationResult {
  value: string;
  /** Variables referenced without a default that were unset (they became ""). */
  missing: string[];
  problems: InterpolationProblem[];
}

const NAME = /^[_A-Za-z][_A-Za-z0-9]*/;
/** Nested `${A:-${B:-...}}` deeper than this is refused: no compose file needs it, and it bounds recursion. */
const MAX_NESTING = 16;

export function interpolate(input: string, lookup: Lookup): InterpolationResult {
  const res: InterpolationResult = { value: '', missing: [], problems: [] };
  res.value = input.includes('$') ? expand(input, lookup, res, 0) : input;
  return res;
}

function expand(s: string, lookup: Lookup, res: InterpolationResult, depth: number): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const dollar = s.indexOf('$', i);
    if (dollar === -1) return out + s.slice(i);
    out += s.slice(i, dollar);
    const next = s[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const end = matchBrace(s, dollar + 2);
      if (end === -1) {
        res.problems.push({ kind: 'syntax', message: `invalid interpolation format: unterminated "\${" in "${clip(s)}"` });
        return out + s.slice(dollar);
      }
      out += braced(s.slice(dollar + 2, end), lookup, res, depth);
      i = end + 1;
    } else {
      const name = NAME.exec(s.slice(dollar + 1, dollar + 257))?.[0];
      if (name === undefined) {
        out += '$';
        i = dollar + 1;
      } else {
        out += resolve(name, lookup, res);
        i = dollar + 1 + name.length;
      }
    }
  }
  return out;
}

function resolve(name: string, lookup: Lookup, res: InterpolationResult): string {
  const v = lookup(name);
  if (v === undefined) {
    res.missing.push(name);
    return '';
  }
  return v;
}

/**
 * Index of the `}` closing a `${` whose body starts at `from`; -1 when unterminated. Every `{` nests, not only
 * `${`, so a default may hold braces (`${CFG:-{"json":1}}`, as compose-go's template tests have it); `$$` is text.
 */
function matchBrace(s: string, from: number): number {
  let depth = 1;
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === '$' && s[j + 1] === '$') j++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return j;
  }
  return -1;
}

const OPS = [':-', ':?', ':+', '-', '?', '+'] as const;

function braced(body: string, lookup: Lookup, res: InterpolationResult, depth: number): string {
  const name = NAME.exec(body)?.[0];
  const rest = name === undefined ? body : body.slice(name.length);
  const op = OPS.find((o) => rest.startsWith(o));
  if (name === undefined || (rest !== '' && op === undefined)) {
    res.problems.push({ kind: 'syntax', message: `invalid interpolation format "\${${clip(body)}}"` });
    return '';
  }
  if (op === undefined) return resolve(name, lookup, res);
  if (depth >= MAX_NESTING) {
    res.problems.push({ kind: 'syntax', message: `interpolation nested deeper than ${MAX_NESTING} levels` });
    return '';
  }
  const arg = () => expand(rest.slice(op.length), lookup, res, depth + 1);
  const value = lookup(name);
  const unset = value === undefined;
  const empty = unset || value === '';
  switch (op) {
    case ':-':
      return empty ? arg() : value;
    case '-':
      return unset ? arg() : value;
    case ':+':
      return empty ? '' : arg();
    case '+':
      return unset ? '' : arg();
    default: {
      if (op === ':?' ? !empty : !unset) return value ?? '';
      const msg = arg();
      res.problems.push({
        kind: 'required',
        variable: name,
        message: `required variable ${name} is missing a value${msg === '' ? '' : `: ${msg}`}`,
      });
      return '';
    }
  }
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
