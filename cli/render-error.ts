// Turns anything thrown by a command into what the user sees and the exit code: CmeshErrors are expected and
// rendered compiler-style; anything else is a bug in cmesh and says so.

import { type CmeshError, type ConfigIssue, ExitCode, formatPosition, isCmeshError } from '../daemon/api/errors.ts';
import type { ConfigWarning } from '../daemon/api/project.ts';
import { type Colors, createColors } from './output.ts';

export interface RenderOptions {
  /** Render as one JSON object (for `--json` commands) instead of text. */
  json?: boolean;
  color?: boolean;
}

export interface RenderedError {
  text: string;
  exitCode: number;
}

const bugReportLine = 'This is a bug in cmesh, not in your project. Please report it with the command you ran and the output above.';

function issueLine(issue: ConfigIssue, c: Colors): string {
  const where = issue.position ? c.bold(formatPosition(issue.position)) + '  ' : '';
  const path = issue.path ? c.cyan(issue.path) + ': ' : '';
  let line = `  ${where}${path}${issue.message}`;
  if (issue.hint) line += `\n    ${c.green('hint')}: ${issue.hint}`;
  return line;
}

/** `warning: file:line:col path: message`, the one-line form config warnings take on stderr. */
export function formatWarning(warning: ConfigWarning, options: { color?: boolean } = {}): string {
  const c = createColors(options.color ?? false);
  const where = warning.position ? `${formatPosition(warning.position)} ` : '';
  const path = warning.path ? `${warning.path}: ` : '';
  return `${c.yellow('warning')}: ${where}${path}${warning.message}\n`;
}

export function renderCmeshError(err: CmeshError, options: RenderOptions = {}): string {
  if (options.json) return JSON.stringify({ error: err.toJSON() }) + '\n';
  const c = createColors(options.color ?? false);
  const lines = [`${c.red(c.bold('error'))}${c.dim(`[${err.code}]`)}: ${err.message}`];
  for (const issue of err.issues) lines.push(issueLine(issue, c));
  // Loaders often repeat the only issue's hint as the error's hint; once is enough.
  if (err.hint && !err.issues.some((issue) => issue.hint === err.hint)) lines.push(`${c.green('hint')}: ${err.hint}`);
  lines.push(...logLines(err.details['logs'], c));
  return lines.join('\n') + '\n';
}

const MAX_LOG_LINES = 20;

/** A crashed container's last lines (`details.logs`: one list, or one per container name) are the useful part. */
function logLines(logs: unknown, c: Colors): string[] {
  const isList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const groups: [string, string[]][] = isList(logs)
    ? [['', logs]]
    : logs !== null && typeof logs === 'object'
      ? Object.entries(logs).filter((e): e is [string, string[]] => isList(e[1]))
      : [];
  const out: string[] = [];
  for (const [name, list] of groups) {
    out.push(c.dim(`last log lines${name ? ` of ${name}` : ''}:`));
    if (list.length === 0) out.push(c.dim('  (no output)'));
    for (const line of list.slice(-MAX_LOG_LINES)) out.push(`  ${c.dim('|')} ${line}`);
  }
  return out;
}

function describeBug(err: unknown): { message: string; stack: string } {
  if (err instanceof Error) {
    let stack = err.stack ?? `${err.name}: ${err.message}`;
    // Causes carry the real origin when a library wraps an error.
    let cause: unknown = err.cause;
    for (let depth = 0; cause !== undefined && depth < 5; depth++) {
      stack += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause)}`;
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    return { message: err.message || err.name, stack };
  }
  return { message: String(err), stack: `thrown value: ${safeInspect(err)}` };
}

function safeInspect(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function renderBug(err: unknown, options: RenderOptions = {}): string {
  const { message, stack } = describeBug(err);
  if (options.json) {
    return JSON.stringify({ error: { code: 'CMESH_E_BUG', message: `cmesh hit a bug: ${message}`, details: { stack } } }) + '\n';
  }
  const c = createColors(options.color ?? false);
  return `${c.red(c.bold('cmesh hit a bug'))}: ${message}\n${c.dim(stack)}\n${bugReportLine}\n`;
}

/** The single place that decides how a thrown value looks and which exit code it maps to. */
export function renderError(err: unknown, options: RenderOptions = {}): RenderedError {
  if (isCmeshError(err)) return { text: renderCmeshError(err, options), exitCode: err.exitCode };
  return { text: renderBug(err, options), exitCode: ExitCode.bug };
}
