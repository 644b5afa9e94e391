/**
 * Which fields an ENCRYPT rule covers in a schema: the same selection the engine compiles (a rule
 * without tags covers every string and bytes field; otherwise fields whose tags, inline plus
 * `metadata.tags`, intersect the rule's), expressed as field full names so that the rules of one schema
 * (the subject's latest) can be checked against records of another (an older writer schema).
 */
import type { FieldStep, LoadedSchema, Side } from '../engine/index.js';
import type { Codec, FieldInfo } from '../formats/index.js';
import type { Rule } from '../registry/types.js';
import { fieldTags, ruleAppliesToTags } from '../rules/index.js';
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
    if (step.kind === 'unsupported' || step.tolerant === true) continue;
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
