/**
 * CEL programs of CEL and CEL_FIELD rules, compiled once per plan (never per record), the way Confluent's
 * executors read a rule's `expr` (JS rules/cel/cel-executor.ts `execute`, Go rules/cel/cel_executor.go):
 * the text is split at its FIRST `;` (even inside a string literal, as both clients do); the part before
 * it, when not blank, is a guard, the rest the body. Both are parsed and planned with the clients' JS
 * environment, `celEnv({ funcs: STRINGS_EXT_FUNCS })` of @bufbuild/cel (the version the client pins).
 *
 * A program that does not parse is RULE_INVALID at compile time, with where it sits (subject, version,
 * rule name) and the parser's own message, which quotes only the expression, never a record value.
 */
import { celEnv, parse, plan, type CelResult } from '@bufbuild/cel';
import { STRINGS_EXT_FUNCS } from '@bufbuild/cel/ext/strings';
import type { Rule } from '../../model/index.js';
import { RecryptError } from '../../util/errors.js';

/** One planned CEL expression: bindings in, a value or a CelError out (it never throws on a value). */
export type CelEvaluator = (bindings: Record<string, unknown>) => CelResult;

export interface CelProgram {
  /** The text before the first `;` when it is not blank: false skips the body (see run.ts). */
  readonly guard: CelEvaluator | null;
  readonly body: CelEvaluator;
  /** Whether the text names `message`: only then is the record converted for it (values.ts). */
  readonly refsMessage: boolean;
}

/** Where a rule sits, for compile errors: its subject, and the schema's version (else its id). */
export interface RuleLocation {
  readonly subject: string;
  readonly version?: number | undefined;
  readonly id?: number | undefined;
}

const env = celEnv({ funcs: STRINGS_EXT_FUNCS });

/** Planned expressions by their text: @bufbuild/cel programs do not depend on the schema. */
const planned = new Map<string, CelEvaluator>();
const MAX_PLANNED = 1000;

function planText(text: string): CelEvaluator {
  const hit = planned.get(text);
  if (hit !== undefined) return hit;
  const evaluator = plan(env, parse(text)) as CelEvaluator;
  if (planned.size >= MAX_PLANNED) planned.clear();
  planned.set(text, evaluator);
  return evaluator;
}

const NO_EXPR: CelProgram = Object.freeze({ guard: () => false, body: () => true, refsMessage: false });

function where(rule: Rule, at: RuleLocation): string {
  const schema = at.version !== undefined ? `version ${at.version}` : at.id !== undefined ? `schema id ${at.id}` : 'version (unknown)';
  return `subject ${at.subject} ${schema} rule ${rule.name}`;
}

/** Why a rule's expression does not compile (no expr, or the parser's message), or undefined when it does. */
export function celCompileError(rule: Rule): string | undefined {
  try {
    programOf(rule);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : 'parse failed';
  }
}

function programOf(rule: Rule): CelProgram {
  const expr = rule.expr;
  // No expression: both executors hand the message back untouched (a CONDITION then holds).
  if (expr === undefined || expr === null || expr.trim() === '') return NO_EXPR;
  const split = expr.indexOf(';');
  const guardText = split >= 0 ? expr.slice(0, split) : '';
  const bodyText = split >= 0 ? expr.slice(split + 1) : expr;
  try {
    return Object.freeze({
      guard: guardText.trim() === '' ? null : planText(guardText),
      body: planText(bodyText),
      refsMessage: /\bmessage\b/.test(expr),
    });
  } catch (err) {
    // The parser's SyntaxError names a position in the expression text (schema data, not a record value).
    throw new Error(`CEL expression does not compile: ${err instanceof Error ? err.message : 'parse failed'}`);
  }
}

/**
 * Compiles a CEL or CEL_FIELD rule's expression. Throws RecryptError RULE_INVALID when it does not
 * parse.
 */
export function compileCelRule(rule: Rule, at: RuleLocation): CelProgram {
  try {
    return programOf(rule);
  } catch (err) {
    throw new RecryptError('RULE_INVALID', `${where(rule, at)}: ${err instanceof Error ? err.message : 'parse failed'}`);
  }
}
