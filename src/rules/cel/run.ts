/**
 * Running a compiled CEL program on one record or leaf, the way Go's executors do (rules/cel/
 * cel_executor.go `execute`): a guard that yields false, or fails to evaluate, skips the body (a
 * CONDITION then passes, a TRANSFORM leaves the value); the body's CelError is a rule failure (JS would
 * put the error object in the record, or pass the condition: fail-open, which we do not follow).
 *
 * The outcome carries no CelError text: those messages quote record values ("Cannot convert <value> to a
 * BigInt", "Unsupported input {...}"), and nothing here may reach an error, a log or a DLQ header.
 */
import { isCelError } from '@bufbuild/cel';
import type { CelProgram } from './program.js';

export type CelRun =
  /** The body ran and gave `value`. */
  | { readonly kind: 'value'; readonly value: unknown }
  /** The guard said no (false, or an evaluation error): the body did not run. */
  | { readonly kind: 'skipped' }
  /** The body did not evaluate (a CelError, or an exception the library let through). */
  | { readonly kind: 'error' };

const SKIPPED: CelRun = Object.freeze({ kind: 'skipped' });
const ERROR: CelRun = Object.freeze({ kind: 'error' });

function evaluate(run: (b: Record<string, unknown>) => unknown, bindings: Record<string, unknown>): unknown {
  try {
    return run(bindings);
  } catch {
    return ERROR;
  }
}

/** Runs guard then body over `bindings`. */
export function runCel(program: CelProgram, bindings: Record<string, unknown>): CelRun {
  if (program.guard !== null) {
    const g = evaluate(program.guard, bindings);
    if (g === ERROR || isCelError(g) || g === false) return SKIPPED;
  }
  const value = evaluate(program.body, bindings);
  if (value === ERROR || isCelError(value)) return ERROR;
  return { kind: 'value', value };
}

/**
 * A CONDITION's verdict: it fails only on the boolean false (both clients; any other value passes),
 * and, as in Go, when the body does not evaluate.
 */
export function conditionHolds(run: CelRun): 'pass' | 'false' | 'error' {
  if (run.kind === 'skipped') return 'pass';
  if (run.kind === 'error') return 'error';
  return run.value === false ? 'false' : 'pass';
}
