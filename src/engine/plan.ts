/**
 * Compiled plans: what to do with every record of one writer schema, decided once. A side (the writer's
 * READ rules, or the target's WRITE rules) is a list of steps in execution order, each with its
 * resolved encryption params, the compiled walker over the fields its tags select, and the action its
 * failure takes in this direction.
 */
import type { Codec, FieldInfo, FieldWalker } from '../formats/index.js';
import { dekRefOf, type DekRef, type Rule } from '../model/index.js';
import {
  actionFor, fieldTags, resolveEncryptionParams, ruleAppliesToTags, selectRules,
  type EncryptionParams, type RuleAction, type RuleDirection, type RulePhase,
} from '../rules/index.js';
import { compileCelStep, type CelStepProgram } from './cel-step.js';
import { RecryptError } from '../util/errors.js';
import { subjectScope, type DekScopeResolver } from './dek-scope.js';
import type { LoadedSchema } from './schema-store.js';

interface StepBase {
  readonly rule: Rule;
  readonly onFailure: RuleAction;
  /** The schema's subject for this record (named in DLQ headers). */
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
  /** The DEK the rule encrypts with, its scope resolved at compile time. */
  readonly dek: DekRef;
  /** null when no field of the schema is selected by the rule: the step is a no-op. */
  readonly walker: FieldWalker | null;
  /** The fields the rule selects (what the walker was compiled from). */
  readonly select: (field: FieldInfo) => boolean;
}

export interface PayloadStep extends StepBase {
  readonly kind: 'payload';
  readonly params: EncryptionParams;
  readonly dek: DekRef;
}

/** A CEL CONDITION or a CEL_FIELD rule, run by the kernel (engine/cel-step.ts, kernel/cel.ts); no DEK. */
export interface CelStep extends StepBase {
  readonly kind: 'cel';
  readonly cel: CelStepProgram;
}

/**
 * A rule recrypt cannot run (a CEL TRANSFORM, a CEL rule among encodingRules, an unknown type), or a
 * JSONata migration rule as the driver reports it (engine/migrate.ts): no DEK; the kernel fails every
 * record on it and its action decides.
 */
export interface UnsupportedStep extends StepBase {
  readonly kind: 'unsupported';
}

/** A step with a DEK: ENCRYPT on fields, ENCRYPT_PAYLOAD on the payload. */
export function isKeyedStep(step: Step): step is FieldStep | PayloadStep {
  return step.kind === 'field' || step.kind === 'payload';
}

/** A keyless step the kernel runs (CEL, CEL_FIELD). */
export function isCelStep(step: Step): step is CelStep {
  return step.kind === 'cel';
}

export type Step = FieldStep | PayloadStep | CelStep | UnsupportedStep;

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

/**
 * The fields a rule selects under a schema's `metadata.tags`. Rules whose field type is not string or
 * bytes are selected too: writing them is an error.
 */
export function ruleFieldSelector(rule: Rule, metadataTags: Readonly<Record<string, readonly string[]>> | undefined): (field: FieldInfo) => boolean {
  const tagless = (rule.tags ?? []).length === 0;
  return (field) => {
    // A rule with no tags covers every string and bytes field (CSFLE-NOTES section 4).
    if (tagless) return field.kind !== 'other';
    return ruleAppliesToTags(rule.tags, fieldTags(field, metadataTags));
  };
}

function fieldSelector(rule: Rule, schema: LoadedSchema): (field: FieldInfo) => boolean {
  return ruleFieldSelector(rule, schema.info.metadata?.tags);
}

/**
 * Which fields of `writer` are tagged for the DLQ (dlq/): selected by any ENCRYPT rule of the writer or
 * the target schema, whatever its mode or state, under either schema's metadata tags, or sharing a full
 * name with a target field a target rule selects. An ENCRYPT_PAYLOAD rule on either side makes every
 * field tagged. `covered`: selected by a writer rule that encrypts on write and fails closed (the source holds ciphertext).
 */
export interface DlqTagging {
  readonly tagged: (field: FieldInfo) => boolean;
  readonly covered: (field: FieldInfo) => boolean;
}

/** A writer whose rule says NONE on write failure may have written the field in plaintext. */
function writeFailureIsNotNone(rule: Rule): boolean {
  try {
    return actionFor(rule, 'write', 'failure') !== 'NONE';
  } catch {
    return false;
  }
}

export function dlqTagging(writer: LoadedSchema, target: LoadedSchema, targetCodec: Codec): DlqTagging {
  const encrypting = (schema: LoadedSchema) => (schema.info.ruleSet?.domainRules ?? []).filter((r) => r.type === 'ENCRYPT');
  const payload = (schema: LoadedSchema) => (schema.info.ruleSet?.encodingRules ?? []).filter((r) => r.type === 'ENCRYPT_PAYLOAD');
  const writerMeta = writer.info.metadata?.tags;
  const targetMeta = target.info.metadata?.tags;
  const writerRules = encrypting(writer).map((r) => ({ rule: r, select: ruleFieldSelector(r, writerMeta) }));
  const targetRules = encrypting(target).flatMap((r) => [ruleFieldSelector(r, targetMeta), ruleFieldSelector(r, writerMeta)]);
  const targetNames = new Set(targetCodec.fields().filter((f) => targetRules.some((s) => s(f))).map((f) => f.fullName));
  const everything = payload(writer).length > 0 || payload(target).length > 0;
  const writesEncrypted = (r: Rule) => r.disabled !== true && ['WRITE', 'WRITEREAD'].includes(r.mode ?? 'WRITEREAD')
    && (r.kind ?? 'TRANSFORM') === 'TRANSFORM' && writeFailureIsNotNone(r);
  const writerPayload = payload(writer).some(writesEncrypted);
  return {
    tagged: (f) => everything || targetNames.has(f.fullName) || writerRules.some((w) => w.select(f)) || targetRules.some((s) => s(f)),
    covered: (f) => writerPayload || (f.kind !== 'other' && writerRules.some((w) => writesEncrypted(w.rule) && w.select(f))),
  };
}

interface StepContext {
  readonly direction: RuleDirection;
  readonly schema: LoadedSchema;
  readonly codec: Codec;
  readonly subject: string;
  readonly scopeOf: DekScopeResolver;
}

function compileStep(rule: Rule, phase: RulePhase, ctx: StepContext, tolerant = false): Step {
  const { direction, schema, codec, subject } = ctx;
  const onFailure = actionFor(rule, direction, 'failure');
  const base = { rule, onFailure, subject, ...(tolerant ? { tolerant } : {}) };
  if (phase === 'domain' && rule.type === 'ENCRYPT') {
    const select = fieldSelector(rule, schema);
    const params = resolveEncryptionParams(rule, schema.info);
    return { ...base, kind: 'field', params, dek: dekRefOf(params, ctx.scopeOf(subject)), walker: codec.compileWalker(select), select };
  }
  if (phase === 'encoding' && rule.type === 'ENCRYPT_PAYLOAD') {
    const params = resolveEncryptionParams(rule, schema.info);
    return { ...base, kind: 'payload', params, dek: dekRefOf(params, ctx.scopeOf(subject)) };
  }
  const cel = phase === 'domain' ? compileCelStep(rule, { schema, codec, subject }) : null;
  return cel === null ? { ...base, kind: 'unsupported' } : { ...base, kind: 'cel', cel };
}

export function compileSide(
  schema: LoadedSchema, codec: Codec, direction: RuleDirection, subject: string, messageIndexes?: readonly number[],
  scopeOf: DekScopeResolver = subjectScope,
): Side {
  const ctx: StepContext = { direction, schema, codec, subject, scopeOf };
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
    domain: domainRules.map(({ rule, tolerant }) => compileStep(rule, 'domain', ctx, tolerant)),
    encoding: encoding.rules.map(({ rule }) => compileStep(rule, 'encoding', ctx)),
    disabledByEnableAt: domain.disabledByEnableAt || encoding.disabledByEnableAt,
  };
}

export function encryptingSteps(side: Side): readonly (FieldStep | PayloadStep)[] {
  return [...side.domain, ...side.encoding].filter(isKeyedStep);
}

export function unsupportedRuleError(step: Step): RecryptError {
  return new RecryptError('RULE_INVALID', `rule ${step.rule.name} has type ${step.rule.type ?? '(none)'}, which recrypt does not execute`);
}

/** Field steps whose walker touches no field: worth a warning in `recrypt plan`. */
export function idleSteps(side: Side): readonly Step[] {
  return side.domain.filter((s) => s.kind === 'field' && s.walker === null);
}
