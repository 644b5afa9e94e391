/**
 * Which fields an ENCRYPT rule covers in a schema: the same selection the engine compiles (a rule
 * without tags covers every string and bytes field; otherwise fields whose tags, inline plus
 * `metadata.tags`, intersect the rule's), expressed as field full names so that the rules of one schema
 * (the subject's latest) can be checked against records of another (an older writer schema).
 */
import { isKeyedStep, type FieldStep, type LoadedSchema, type Side } from '../engine/index.js';
import type { Codec, FieldInfo } from '../formats/index.js';
import type { Rule } from '../registry/types.js';
import { ENCRYPT_RULE_TYPES, fieldTags, isRuleSetEnabled, ruleAppliesToTags } from '../rules/index.js';
import type { RuleCoverage } from './report.js';

export function ruleSelects(rule: Rule, schema: LoadedSchema): (field: FieldInfo) => boolean {
  const metadataTags = schema.info.metadata?.tags;
  const tagless = (rule.tags ?? []).length === 0;
  return (field) => (tagless ? field.kind !== 'other' : ruleAppliesToTags(rule.tags, fieldTags(field, metadataTags)));
}

/** The field steps of a side that readers run (the tolerant duplicates of overridden rules left out). */
export function fieldSteps(side: Side): FieldStep[] {
  return side.domain.filter((s): s is FieldStep => s.kind === 'field' && s.tolerant !== true);
}

export function coveredFields(rule: Rule, schema: LoadedSchema, codec: Codec): string[] {
  const select = ruleSelects(rule, schema);
  return [...new Set(codec.fields().filter(select).map((f) => f.fullName))].sort();
}

export function coverageOf(side: Side): RuleCoverage[] {
  const out: RuleCoverage[] = [];
  for (const step of [...side.domain, ...side.encoding]) {
    if (!isKeyedStep(step) || step.tolerant === true) continue;
    out.push({
      rule: step.rule.name,
      type: step.rule.type ?? '',
      kek: step.params.kekName,
      algorithm: step.params.algorithm,
      expiryDays: step.params.expiryDays,
      fields: step.kind === 'field' ? coveredFields(step.rule, side.schema, side.codec) : ['(payload)'],
    });
  }
  return out;
}

/** A schema and the codec of the message the records use (protobuf: per message index). */
export interface SchemaView {
  readonly schema: LoadedSchema;
  readonly codec: Codec;
}

/**
 * Fields of the writer schema that carry a tag (inline, or `metadata.tags` of the writer or of the
 * subject's latest schema) but that no enabled ENCRYPT rule of either schema selects: tagged PII that
 * nothing encrypts, the engine's own tag matching deciding both. Full name -> its tags. Empty when a
 * payload rule encrypts the whole record (every field is covered).
 */
export function taggedUncovered(writer: SchemaView, latest: SchemaView | null): Map<string, string[]> {
  const views = latest === null ? [writer] : [writer, latest];
  const tags = new Map<string, Set<string>>();
  const covered = new Set<string>();
  for (const view of views) {
    const ruleSet = view.schema.info.ruleSet;
    const enabled = isRuleSetEnabled(ruleSet);
    const encodes = (ruleSet?.encodingRules ?? []).some((r) => enabled && r.disabled !== true && r.type !== undefined && ENCRYPT_RULE_TYPES.has(r.type));
    if (encodes) return new Map();
    const rules = enabled ? (ruleSet?.domainRules ?? []).filter((r) => r.disabled !== true && r.type !== undefined && ENCRYPT_RULE_TYPES.has(r.type)) : [];
    const metadataTags = view.schema.info.metadata?.tags;
    for (const field of view.codec.fields()) {
      const own = fieldTags(field, metadataTags);
      if (own.size > 0) {
        const set = tags.get(field.fullName) ?? new Set<string>();
        for (const t of own) set.add(t);
        tags.set(field.fullName, set);
      }
    }
    for (const rule of rules) for (const name of coveredFields(rule, view.schema, view.codec)) covered.add(name);
  }
  const writerFields = new Set(writer.codec.fields().map((f) => f.fullName));
  const out = new Map<string, string[]>();
  for (const [name, set] of [...tags].sort(([a], [b]) => a.localeCompare(b))) {
    if (writerFields.has(name) && !covered.has(name)) out.set(name, [...set].sort());
  }
  return out;
}
