/**
 * Compiled plans: what to do with every record of one writer schema, decided once. A side (the writer's
 * READ rules, or the target's WRITE rules) is a list of steps in execution order, each with its
 * resolved encryption params, the compiled walker over the fields its tags select, and the action its
 * failure takes in this direction.
 */
import type { Codec, FieldInfo, FieldWalker } from '../formats/index.js';
import type { Rule } from '../registry/types.js';
import {
  actionFor, fieldTags, resolveEncryptionParams, ruleAppliesToTags, selectRules,
  type EncryptionParams, type RuleAction, type RuleDirection, type RulePhase,
} from '../rules/index.js';
import { RecryptError } from '../util/errors.js';
import type { LoadedSchema } from './schema-store.js';

interface StepBase {
  readonly rule: Rule;
  readonly onFailure: RuleAction;
  /** DEK subject (the schema's subject for this record). */
  readonly subject: string;
  /**
   * Read only: an ENCRYPT rule that Java, Go and Python skip (an earlier rule has the same tag set) but
   * Confluent's JS client runs (it compares tag arrays by reference, so it encrypts twice). Run it, and
   * when its DEK cannot be had or the value does not decrypt under it, leave the value as it is: the
   * record came from a writer that skipped the rule. Data from both kinds of writer then reads back.
   */
  readonly tolerant?: boolean;
}

export interface FieldStep extends StepBase {
  readonly kind: 'field';
  readonly params: EncryptionParams;
  /** null when no field of the schema is selected by the rule: the step is a no-op. */
  readonly walker: FieldWalker | null;
}

export interface PayloadStep extends StepBase {
  readonly kind: 'payload';
  readonly params: EncryptionParams;
}

/** A rule type recrypt cannot run (CEL, JSONata...): it fails every record, and its action decides. */
export interface UnsupportedStep extends StepBase {
  readonly kind: 'unsupported';
}

export type Step = FieldStep | PayloadStep | UnsupportedStep;

export interface Side {
  readonly schema: LoadedSchema;
  readonly codec: Codec;
  readonly subject: string;
  readonly messageIndexes?: readonly number[];
  readonly domain: readonly Step[];
  readonly encoding: readonly Step[];
  /** `enableAt` switched the whole rule set off (the clients then run no rule). */
  readonly disabledByEnableAt: boolean;
}

/** Rules whose field type is not string or bytes are selected too: writing them is an error. */
function fieldSelector(rule: Rule, schema: LoadedSchema): (field: FieldInfo) => boolean {
  const metadataTags = schema.info.metadata?.tags;
  const tagless = (rule.tags ?? []).length === 0;
  return (field) => {
    // A rule with no tags covers every string and bytes field (CSFLE-NOTES section 4).
    if (tagless) return field.kind !== 'other';
    return ruleAppliesToTags(rule.tags, fieldTags(field, metadataTags));
  };
}

function compileStep(
  rule: Rule, phase: RulePhase, direction: RuleDirection, schema: LoadedSchema, codec: Codec, subject: string, tolerant = false,
): Step {
  const onFailure = actionFor(rule, direction, 'failure');
  const base = { rule, onFailure, subject, ...(tolerant ? { tolerant } : {}) };
  if (phase === 'domain' && rule.type === 'ENCRYPT') {
    return { ...base, kind: 'field', params: resolveEncryptionParams(rule, schema.info), walker: codec.compileWalker(fieldSelector(rule, schema)) };
  }
  if (phase === 'encoding' && rule.type === 'ENCRYPT_PAYLOAD') {
    return { ...base, kind: 'payload', params: resolveEncryptionParams(rule, schema.info) };
  }
  return { ...base, kind: 'unsupported' };
}

export function compileSide(
  schema: LoadedSchema, codec: Codec, direction: RuleDirection, subject: string, messageIndexes?: readonly number[],
): Side {
  const ruleSet = schema.info.ruleSet;
  const domain = selectRules(ruleSet, direction, { phase: 'domain' });
  const encoding = selectRules(ruleSet, direction, { phase: 'encoding' });
  // On read, the overridden same-tag-set ENCRYPT rules run too, tolerantly, in their list position.
  const domainRules: { rule: Rule; index: number; tolerant: boolean }[] = domain.rules.map((r) => ({ ...r, tolerant: false }));
  if (direction === 'read') {
    for (const s of domain.skipped) {
      if (s.reason === 'overridden' && s.rule.type === 'ENCRYPT') domainRules.push({ rule: s.rule, index: s.index, tolerant: true });
    }
    domainRules.sort((a, b) => b.index - a.index);
  }
  return {
    schema, codec, subject,
    ...(messageIndexes ? { messageIndexes } : {}),
    domain: domainRules.map(({ rule, tolerant }) => compileStep(rule, 'domain', direction, schema, codec, subject, tolerant)),
    encoding: encoding.rules.map(({ rule }) => compileStep(rule, 'encoding', direction, schema, codec, subject)),
    disabledByEnableAt: domain.disabledByEnableAt || encoding.disabledByEnableAt,
  };
}

export function encryptingSteps(side: Side): readonly Step[] {
  return [...side.domain, ...side.encoding].filter((s) => s.kind !== 'unsupported');
}

export function unsupportedRuleError(step: UnsupportedStep): RecryptError {
  return new RecryptError('RULE_INVALID', `rule ${step.rule.name} has type ${step.rule.type ?? '(none)'}, which recrypt does not execute`);
}

/** Field steps whose walker touches no field: worth a warning in `recrypt plan`. */
export function idleSteps(side: Side): readonly Step[] {
  return side.domain.filter((s) => s.kind === 'field' && s.walker === null);
}
