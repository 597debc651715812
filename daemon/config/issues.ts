// Collects every error and warning of a load so users fix them in one pass; throws once as a CmeshError.

import { CmeshError, type ConfigIssue, type ErrorCode, type SourcePosition, formatPosition } from '../api/errors.ts';
import type { ConfigWarning, KeyReport } from '../api/project.ts';
import { formatPath, type PathSeg } from './positions.ts';

export interface CodedIssue extends ConfigIssue {
  code: ErrorCode;
}

/** Past this many, further issues are only counted: a hostile file must not produce a million-entry report. */
const MAX_ISSUES = 200;

export class Issues {
  readonly errors: CodedIssue[] = [];
  readonly warnings: ConfigWarning[] = [];
  dropped = 0;
  /** Compose keys read (normalize/read.ts checkKeys), for the "what differs from Compose" summary. */
  readonly keys: KeyReport = { honoured: 0, ignored: [] };

  error(
    pos: SourcePosition | undefined,
    path: readonly PathSeg[] | undefined,
    message: string,
    hint?: string,
    code: ErrorCode = 'CMESH_E_CONFIG_INVALID',
  ): void {
    if (this.errors.length >= MAX_ISSUES) {
      this.dropped++;
      return;
    }
    const issue: CodedIssue = { code, message };
    if (path !== undefined && path.length > 0) issue.path = formatPath(path);
    if (pos !== undefined) issue.position = pos;
    if (hint !== undefined) issue.hint = hint;
    this.errors.push(issue);
  }

  warn(pos: SourcePosition | undefined, path: readonly PathSeg[] | undefined, message: string): void {
    if (this.warnings.length >= MAX_ISSUES) return;
    const w: ConfigWarning = { message };
    if (path !== undefined && path.length > 0) w.path = formatPath(path);
    if (pos !== undefined) w.position = pos;
    this.warnings.push(w);
  }

  /** False once warnings are capped, so callers can skip work (like typo suggestions) nobody will see. */
  get canWarn(): boolean {
    return this.warnings.length < MAX_ISSUES;
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  /** Throws when any error was collected; the code is the shared specific one, else CONFIG_INVALID. */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    throw this.toError();
  }

  toError(): CmeshError {
    const codes = new Set(this.errors.map((e) => e.code));
    const code: ErrorCode = codes.size === 1 ? (this.errors[0]?.code ?? 'CMESH_E_CONFIG_INVALID') : 'CMESH_E_CONFIG_INVALID';
    const issues: ConfigIssue[] = this.errors.map(({ code: _c, ...rest }) => rest);
    const first = issues[0];
    const where = first?.position ? `${formatPosition(first.position)}: ` : '';
    const message =
      issues.length === 1
        ? `${where}${first?.path ? `${first.path}: ` : ''}${first?.message ?? 'invalid config'}`
        : `${issues.length + this.dropped} problems in the compose config (first: ${where}${first?.message ?? ''})`;
    return new CmeshError(code, message, {
      issues,
      hint: first?.hint ?? 'fix the listed problems and run `cmesh config` again',
      details: { warnings: this.warnings, ...(this.dropped > 0 ? { moreIssues: this.dropped } : {}) },
    });
  }
}
