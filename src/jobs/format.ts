/**
 * One line per problem: `file:line:column: path: message (expected ...)`, with `warning: ` before the
 * path for warnings. Parts that are unknown (no file for run-time checks, no path for file problems)
 * are left out.
 */
import type { Problem } from './problem.js';

export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(':');
  const parts = [where, p.severity === 'warning' ? 'warning' : '', p.path].filter((x) => x !== '');
  const expected = p.expected === undefined || p.expected === '' ? '' : ` (expected ${p.expected})`;
  return `${[...parts, `${p.message}${expected}`].join(': ')}`;
}

export function formatProblems(problems: readonly Problem[]): string[] {
  return problems.map(formatProblem);
}
