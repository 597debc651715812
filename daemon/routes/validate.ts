// The control API's one gate for request bodies: a parsed JSON value either becomes the route's contract type or a
// CMESH_E_DAEMON_PROTOCOL error naming every offending field, so nothing malformed travels past the router.

import type { z } from 'zod';
import { type ConfigIssue, CmeshError } from '../api/errors.ts';
import { FORBIDDEN_KEYS } from '../api/schema-kit.ts';

/**
 * Deeper than any real body (a compose file may nest 64 levels and its `x-*` extensions ride a few levels down),
 * and shallow enough that the recursive code behind the gate (zod, JSON.stringify when the store saves) never
 * runs out of stack: V8's JSON.parse accepts a million nested arrays, JSON.stringify does not.
 */
const MAX_DEPTH = 100;
/** Enough to fix a body in one pass without echoing a huge hostile one back. */
const MAX_ISSUES = 20;

type Path = readonly PropertyKey[];

/** `project.services.web.ports[1]`, the form config issues use; odd keys are quoted. */
function formatPath(path: Path): string {
  let out = 'body';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[\w-]+$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out.startsWith('body.') ? out.slice(5) : out;
}

/** Bounds the work zod does (one issue per bad value) on a 16 MiB body; a real project is a few thousand values. */
const MAX_VALUES = 200_000;

interface Frame {
  keys: readonly (string | number)[];
  of: Record<string | number, unknown>;
  at: number;
}

/**
 * Walks the value depth-first with an explicit stack of frames (memory grows with depth, not width): refuses
 * prototype keys anywhere (zod would drop them silently), deep nesting and bodies too large to check cheaply.
 */
function checkShape(value: unknown): ConfigIssue | undefined {
  const frames: Frame[] = [];
  // The path of the value being looked at: the current key of every open frame.
  const here = (): string => formatPath(frames.map((f) => f.keys[f.at - 1]!));
  let values = 0;
  let next: unknown = value;
  for (;;) {
    if (++values > MAX_VALUES) return { path: 'body', message: `more than ${MAX_VALUES} values` };
    if (typeof next === 'object' && next !== null) {
      if (frames.length >= MAX_DEPTH) return { path: here(), message: `nested deeper than ${MAX_DEPTH} levels` };
      const keys = Array.isArray(next) ? next.map((_, i) => i) : Object.keys(next);
      frames.push({ keys, of: next as Record<string | number, unknown>, at: 0 });
    }
    let top = frames.at(-1);
    while (top && top.at >= top.keys.length) {
      frames.pop();
      top = frames.at(-1);
    }
    if (!top) return undefined;
    const key = top.keys[top.at++]!;
    if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) return { path: here(), message: 'key not allowed' };
    next = top.of[key];
  }
}

/** The first few of zod's issues in our form; an unknown key is named at its own path, not its parent's. */
function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.slice(0, MAX_ISSUES).flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: formatPath([...issue.path, k]), message: 'unknown field' }));
    }
    return [{ path: formatPath(issue.path), message: issue.message.replace(/^Invalid input: /, '') }];
  });
}

function protocolError(what: string, issues: ConfigIssue[], total = issues.length): CmeshError {
  const shown = issues.slice(0, MAX_ISSUES);
  const first = shown[0]!;
  const more = total > 1 ? ` (and ${total - 1} more)` : '';
  return new CmeshError('CMESH_E_DAEMON_PROTOCOL', `invalid ${what} request: ${first.path}: ${first.message}${more}`, {
    hint: 'the CLI and the daemon may be different versions: run `cmesh daemon stop` and retry',
    issues: shown,
  });
}

/** The body as the route's contract type (defaults filled in), or a typed error naming the fields that are wrong. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const shape = checkShape(body);
  if (shape) throw protocolError(what, [shape]);
  const result = schema.safeParse(body);
  if (!result.success) throw protocolError(what, issuesOf(result.error), result.error.issues.length);
  return result.data;
}
