/**
 * The kernel's CEL steps (engine/cel-step.ts), synchronous like the rest of the kernel. A failing
 * CONDITION and an expression that does not evaluate on this record are thrown as RecryptErrors with a
 * fixed message, the rule's name and a code; the kernel turns them into the rule's failure action.
 * Nothing from the CEL library's error (which quotes record values) is kept.
 *
 * `message` is the record as earlier rules left it (each rule walks on its own, as in the clients). For a
 * CEL_FIELD rule it is the top-level record, where the clients bind the record that contains the field:
 * the same for top-level fields.
 */
import type { FieldInfo } from '../../formats/index.js';
import {
  DOES_NOT_FIT, conditionHolds, fromCelLeaf, leafToCel, leafTypeName, runCel, toCel,
} from '../../rules/index.js';
import { RecryptError } from '../../util/errors.js';
import type { CelConditionProgram, CelFieldProgram } from '../cel-step.js';
import type { Step } from '../plan.js';

function conditionFailed(step: Step, what: string): RecryptError {
  return new RecryptError('RULE_CONDITION_FAILED', `rule ${step.rule.name}: ${what} condition is false`);
}

function expressionFailed(step: Step, why: string): RecryptError {
  return new RecryptError('RULE_EXPRESSION_FAILED', `rule ${step.rule.name}: ${why}`);
}

/** The record as CEL's `message`; a value that does not convert is the rule's failure, with no cause kept. */
function messageOf(step: Step, value: unknown): unknown {
  try {
    return toCel(value);
  } catch {
    throw expressionFailed(step, 'the record does not convert to CEL values');
  }
}

/** A CEL CONDITION on the record. Throws RULE_CONDITION_FAILED or RULE_EXPRESSION_FAILED. */
export function checkCondition(step: Step, cel: CelConditionProgram, value: unknown): void {
  const verdict = conditionHolds(runCel(cel.program, { message: messageOf(step, value) }));
  if (verdict === 'false') throw conditionFailed(step, 'CEL');
  if (verdict === 'error') throw expressionFailed(step, 'CEL expression did not evaluate on the record');
}

/** Sees each value a CEL_FIELD transform put into a leaf, with the leaf's value before (the DLQ view collects them). */
export type CelOutputSink = (output: unknown, field: FieldInfo, input: unknown) => void;

/**
 * A CEL_FIELD rule over the record's selected leaves; returns the record. Throws as checkCondition.
 * `sink`, when given, sees every transformed leaf value.
 */
export function runCelField(step: Step, cel: CelFieldProgram, value: unknown, sink?: CelOutputSink): unknown {
  if (cel.walker === null) return value;
  const { program } = cel;
  const message = program.refsMessage ? messageOf(step, value) : null;
  const isCondition = cel.ruleKind === 'CONDITION';
  return cel.walker(value, (leaf: unknown, field: FieldInfo) => {
    // The executors return null for null without evaluating, and leave non-primitives alone.
    if (leaf === null || leaf === undefined) return leaf;
    const typeName = leafTypeName(leaf, field.kind);
    if (typeName === null) return leaf;
    const run = runCel(program, {
      value: leafToCel(leaf), fullName: field.fullName, name: field.name, typeName, tags: cel.tagsOf(field), message,
    });
    if (isCondition) {
      const verdict = conditionHolds(run);
      if (verdict === 'false') throw conditionFailed(step, 'CEL_FIELD');
      if (verdict === 'error') throw expressionFailed(step, 'CEL_FIELD expression did not evaluate on a field');
      return leaf;
    }
    if (run.kind === 'skipped') return leaf;
    if (run.kind === 'error') throw expressionFailed(step, 'CEL_FIELD expression did not evaluate on a field');
    const out = fromCelLeaf(run.value, leaf, field.kind);
    if (out === DOES_NOT_FIT) throw expressionFailed(step, `CEL_FIELD result does not fit a ${typeName} field`);
    sink?.(out, field, leaf);
    return out;
  });
}
