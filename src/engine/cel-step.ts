/**
 * CEL and CEL_FIELD rules as plan steps, compiled from plain data (the schema and the rule) so that a
 * worker thread compiles them as the main thread does. Which rules run as CEL here:
 * - type CEL, kind CONDITION: the expression over `message` (the record) must not be false;
 * - type CEL_FIELD, kind TRANSFORM or CONDITION: the expression over each primitive leaf the rule's tags
 *   select (every field when it has none), with `value`, `fullName`, `name`, `typeName`, `tags` and
 *   `message` bound as Confluent's CelFieldExecutor binds them.
 * A CEL TRANSFORM (a new record from an expression) is not run: it stays an unsupported step.
 * Every program is parsed here, so an expression that does not compile is RULE_INVALID when the plan
 * is compiled (validate, plan, or a writer schema's first record), never per record.
 */
import type { Codec, FieldInfo, FieldWalker } from '../formats/index.js';
import type { Rule, RuleKind } from '../model/index.js';
import { compileCelRule, fieldTags, parseActions, ruleAppliesToTags, ruleKind, type CelProgram } from '../rules/index.js';
import { RecryptError } from '../util/errors.js';
import type { LoadedSchema } from './schema-store.js';

export interface CelConditionProgram {
  readonly type: 'CEL';
  readonly program: CelProgram;
}

export interface CelFieldProgram {
  readonly type: 'CEL_FIELD';
  readonly ruleKind: RuleKind;
  readonly program: CelProgram;
  /** null when the rule selects no field of the schema: the step is a no-op. */
  readonly walker: FieldWalker | null;
  /** The field's tags (inline and metadata), the `tags` binding. */
  readonly tagsOf: (field: FieldInfo) => readonly string[];
}

export type CelStepProgram = CelConditionProgram | CelFieldProgram;

export interface CelStepContext {
  readonly schema: LoadedSchema;
  readonly codec: Codec;
  readonly subject: string;
}

/** The fields a CEL_FIELD rule visits: all of them without tags, else those whose tags meet the rule's. */
export function celFieldSelector(rule: Rule, metadataTags: Readonly<Record<string, readonly string[]>> | undefined): (field: FieldInfo) => boolean {
  if ((rule.tags ?? []).length === 0) return () => true;
  return (field) => ruleAppliesToTags(rule.tags, fieldTags(field, metadataTags));
}

/**
 * The CEL program of a domain rule, or null when the rule is not one recrypt runs as CEL. Throws
 * RecryptError RULE_INVALID when the expression does not compile or its onSuccess is DLQ (the clients
 * have no such success action: a record cannot both pass and be diverted).
 */
export function compileCelStep(rule: Rule, ctx: CelStepContext): CelStepProgram | null {
  const kind = ruleKind(rule);
  const isCondition = rule.type === 'CEL' && kind === 'CONDITION';
  if (!isCondition && rule.type !== 'CEL_FIELD') return null;
  const at = { subject: ctx.subject, version: ctx.schema.info.version, id: ctx.schema.id };
  const success = parseActions(rule, 'success');
  if (success.read === 'DLQ' || success.write === 'DLQ') {
    throw new RecryptError('RULE_INVALID', `subject ${at.subject} rule ${rule.name}: onSuccess DLQ is not an action the clients take`);
  }
  const program = compileCelRule(rule, at);
  if (isCondition) return Object.freeze({ type: 'CEL', program });
  const metadataTags = ctx.schema.info.metadata?.tags;
  const tags = new Map<FieldInfo, readonly string[]>();
  return Object.freeze({
    type: 'CEL_FIELD',
    ruleKind: kind,
    program,
    walker: ctx.codec.compileWalker(celFieldSelector(rule, metadataTags)),
    tagsOf: (field: FieldInfo) => {
      let t = tags.get(field);
      if (t === undefined) {
        t = Object.freeze([...fieldTags(field, metadataTags)]);
        tags.set(field, t);
      }
      return t;
    },
  });
}
