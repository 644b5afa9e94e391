/**
 * A problem found in a job: where (file, 1-based line and column when known), which field (a path such
 * as `spec.rules.domainRules[0].onFailure`), what is wrong and what was expected. Messages never
 * carry the values written in the job: a value may be a secret.
 */
import type { ErrorCode } from '../util/errors.js';

export type PathSegment = string | number;

export type ProblemCode = Extract<ErrorCode, 'JOB_INVALID' | 'JOB_UNSAFE'>;

export interface Problem {
  readonly code: ProblemCode;
  /** Errors make the job set invalid; warnings are printed and do not. */
  readonly severity: 'error' | 'warning';
  readonly file?: string;
  /** 0-based index of the YAML document in its file. */
  readonly document?: number;
  readonly line?: number;
  readonly column?: number;
  /** Field path, empty for problems of a whole file or document. */
  readonly path: string;
  readonly message: string;
  readonly expected?: string;
  /** metadata.name of the job, when known. */
  readonly job?: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `spec.rules.domainRules[0].params["encrypt.kek.name"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function isError(problem: Problem): boolean {
  return problem.severity === 'error';
}

export function compareProblems(a: Problem, b: Problem): number {
  return (
    (a.file ?? '').localeCompare(b.file ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.path.localeCompare(b.path) ||
    a.message.localeCompare(b.message)
  );
}
