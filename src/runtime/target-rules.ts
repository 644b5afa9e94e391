/**
 * The target subject's rules: the job's `spec.rules` with Confluent's defaults, put on the target
 * subject as a new schema version when it does not carry them yet, and the target schema the job
 * names (latest, a version, or by metadata).
 */
import type { Job } from '../jobs/index.js';
import type { RegisteredSchema, RuleSet, SchemaRegistryApi } from '../registry/types.js';
import { RecryptError, isRecryptError } from '../util/errors.js';

export async function latestOrNull(registry: SchemaRegistryApi, subject: string): Promise<RegisteredSchema | null> {
  try {
    return await registry.getLatest(subject);
  } catch (err) {
    if (isRecryptError(err) && err.code === 'REGISTRY_NOT_FOUND') return null;
    throw err;
  }
}

export function hasEncryptRule(ruleSet: RuleSet | undefined): boolean {
  return [...(ruleSet?.domainRules ?? []), ...(ruleSet?.encodingRules ?? [])]
    .some((r) => (r.type === 'ENCRYPT' || r.type === 'ENCRYPT_PAYLOAD') && r.disabled !== true);
}

/**
 * The job's rules with Confluent's defaults written out (kind TRANSFORM, mode WRITEREAD): the official
 * JS serde skips a rule without a mode, and not every registry fills the defaults in.
 */
export function withRuleDefaults(rules: NonNullable<Job['spec']['rules']>): RuleSet {
  const out: RuleSet = {};
  for (const list of ['migrationRules', 'domainRules', 'encodingRules'] as const) {
    const given = rules[list];
    if (!given) continue;
    out[list] = given.map((rule) => ({
      ...rule, kind: rule.kind ?? 'TRANSFORM', mode: rule.mode ?? (list === 'migrationRules' ? 'UPGRADE' : 'WRITEREAD'), disabled: rule.disabled ?? false,
    }));
  }
  return out;
}

/**
 * Puts `spec.rules` on the target subject: a new version with the same schema text and the job's
 * ruleSet, registered only when the latest version does not carry exactly these rules already.
 */
export async function applyJobRules(job: Job, registry: SchemaRegistryApi, targetSubject: string, sourceSchema: RegisteredSchema | null): Promise<void> {
  const rules = job.spec.rules;
  if (!rules) return;
  const latest = await latestOrNull(registry, targetSubject);
  const base = latest ?? sourceSchema;
  if (!base) {
    throw new RecryptError('JOB_INVALID', `job ${job.metadata.name}: neither ${targetSubject} nor the source subject has a schema to put the job's rules on`);
  }
  const ruleSet = withRuleDefaults(rules);
  if (latest && JSON.stringify(latest.ruleSet ?? {}) === JSON.stringify(ruleSet)) return;
  await registry.register(targetSubject, {
    schemaType: base.schemaType ?? 'AVRO', schema: base.schema,
    ...(base.references ? { references: base.references } : {}),
    ...(base.metadata ? { metadata: base.metadata } : {}),
    ruleSet,
  });
}

export async function targetSchemaFor(job: Job, registry: SchemaRegistryApi, subject: string): Promise<RegisteredSchema> {
  const ref = job.spec.target.schema;
  try {
    if (ref === 'latest') return await registry.getLatest(subject);
    if (typeof ref === 'number') return await registry.getVersion(subject, ref);
    return await registry.getLatestWithMetadata(subject, { ...ref.metadata });
  } catch (err) {
    if (isRecryptError(err) && err.code === 'REGISTRY_NOT_FOUND') {
      throw new RecryptError('JOB_INVALID', `job ${job.metadata.name}: target subject ${subject} has no schema matching ${JSON.stringify(ref)}`, { cause: err });
    }
    throw err;
  }
}
