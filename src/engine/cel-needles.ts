/**
 * What the DLQ guard must also look for when a plan runs CEL_FIELD transforms: values those transforms
 * derive from tagged plaintext (a mask, a copy, an upper-cased form). The DLQ record itself is the source
 * decoded afresh (dlq-view.ts), so derived values are not in it by construction; they are needles all the
 * same, so that no form of a tagged value leaves through an untagged field or a header.
 *
 * On a fresh copy of the decoded source (its tagged fields decrypted), the read side's CEL_FIELD
 * transforms run in their order, then (converted to the target's shape) the write side's, each up to the
 * ENCRYPT steps, which are left out: the copy stays plaintext. Collected:
 * - every value a transform put into a tagged leaf, or into any leaf when its expression reads `message`
 *   (it may copy a tagged value anywhere), except an untagged leaf's value that came out unchanged: it
 *   was in the record already, derived from nothing tagged, and as a needle it would block any DLQ
 *   record that carries it (its own source, decoded afresh, first);
 * - afterwards, every leaf the tagged walkers select.
 * A step that fails on the copy ends the run there: what it collected so far is kept.
 */
import type { FieldInfo, FieldWalker } from '../formats/index.js';
import { runCelField, type CelOutputSink } from './kernel/cel.js';
import { isCelStep, type Side } from './plan.js';

export type Collect = (value: unknown, field: FieldInfo) => unknown;

/** Whether a side runs a CEL_FIELD transform (only then is there anything to derive). */
export function hasCelTransforms(side: Side): boolean {
  return side.domain.some((s) => isCelStep(s) && s.cel.type === 'CEL_FIELD' && s.cel.ruleKind === 'TRANSFORM');
}

/**
 * Runs `side`'s CEL_FIELD transforms over `value`, giving `collect` what they produce in tagged leaves
 * (`isTagged`) or, for expressions that read `message`, in any leaf whose value changed. Returns the value, or undefined
 * when a step failed.
 */
export function runCelTransforms(side: Side, value: unknown, isTagged: (field: FieldInfo) => boolean, collect: Collect): unknown {
  for (const step of side.domain) {
    if (!isCelStep(step) || step.cel.type !== 'CEL_FIELD' || step.cel.ruleKind !== 'TRANSFORM') continue;
    const anyLeaf = step.cel.program.refsMessage;
    const sink: CelOutputSink = (out, field, input) => {
      if (isTagged(field)) collect(out, field);
      else if (anyLeaf && !sameLeaf(out, input)) collect(out, field);
    };
    try {
      value = runCelField(step, step.cel, value, sink);
    } catch {
      return undefined;
    }
  }
  return value;
}

/** Whether a transform left a leaf's value as it was (bytes come back as a new buffer). */
function sameLeaf(out: unknown, input: unknown): boolean {
  if (out === input) return true;
  return out instanceof Uint8Array && input instanceof Uint8Array && Buffer.compare(out, input) === 0;
}

/** The tagged leaves of `value` after the transforms, through `walkers` (null: selects nothing). */
export function collectTagged(value: unknown, walkers: readonly (FieldWalker | null)[], collect: Collect): void {
  for (const walk of walkers) if (walk !== null) walk(value, collect);
}

export interface DerivePlan {
  readonly read: Side;
  readonly write: Side;
  readonly convert: ((value: unknown) => unknown) | null;
}

/**
 * Runs both sides' CEL_FIELD transforms over `fresh` (a decoded, decrypted copy of the source that no one
 * else holds) and gives `collect` every value derived from tagged plaintext (see the file comment).
 * `tagged`: the writer's tagged fields (dlq-view's tagging).
 */
export function collectDerived(plan: DerivePlan, fresh: unknown, tagged: (field: FieldInfo) => boolean, collect: Collect): void {
  const keyedWalkers = (side: Side) => side.domain.map((s) => (s.kind === 'field' ? s.walker : null));
  let value = runCelTransforms(plan.read, fresh, tagged, collect);
  if (value === undefined) return;
  collectTagged(value, keyedWalkers(plan.read), collect);
  try {
    if (plan.convert !== null) value = plan.convert(value);
  } catch {
    return;
  }
  const writeSelects = plan.write.domain.flatMap((s) => (s.kind === 'field' ? [s.select] : []));
  const writeTagged = (field: FieldInfo) => tagged(field) || writeSelects.some((select) => select(field));
  value = runCelTransforms(plan.write, value, writeTagged, collect);
  if (value !== undefined) collectTagged(value, keyedWalkers(plan.write), collect);
}
