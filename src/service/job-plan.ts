/**
 * `recrypt plan`: a dry run that reads the registry (and, for topic patterns, the topic list) and says,
 * per source topic, which fields each rule decrypts and encrypts with which KEK and algorithm. It
 * writes nothing: the job's rules are evaluated as the target subject would carry them.
 */
import { compileSide, SchemaStore, sourceSubject, type Side } from '../engine/index.js';
import { checkJobAgainstTargetRules, sourceTopicsOf, targetSubjectFor, targetTopicFor, type Job, type Problem } from '../jobs/index.js';
import { listTopics } from '../kafka/topics.js';
import { fieldTags, ruleAppliesToTags } from '../rules/index.js';
import type { RegisteredSchema } from '../registry/types.js';
import { isRecryptError } from '../util/errors.js';
import type { ServiceConfig } from './config.js';
import { registryClients, withRuleDefaults } from './job-runner.js';

export interface PlannedStep {
  readonly rule: string;
  readonly type: string;
  readonly action: string;
  readonly kek?: string;
  readonly kmsType?: string;
  readonly algorithm?: string;
  readonly expiryDays?: number;
  readonly fields: readonly string[];
  readonly note?: string;
}

export interface PlannedRoute {
  readonly source: string;
  readonly sourceSubject: string;
  readonly sourceSchema?: { id: number; version?: number };
  readonly target: string;
  readonly targetSubject: string;
  readonly targetSchema?: { id: number; version?: number; virtual: boolean };
  readonly decrypt: readonly PlannedStep[];
  readonly encrypt: readonly PlannedStep[];
  readonly problems: readonly Problem[];
}

function describeSide(side: Side): PlannedStep[] {
  const fields = side.codec.fields();
  const metadataTags = side.schema.info.metadata?.tags;
  return [...side.domain, ...side.encoding].map((step) => {
    const base = { rule: step.rule.name, type: step.rule.type ?? '(none)', action: step.onFailure };
    if (step.kind === 'unsupported') return { ...base, fields: [], note: 'recrypt does not execute this rule type: every record takes its failure action' };
    const params = { kek: step.params.kekName, algorithm: step.params.algorithm, expiryDays: step.params.expiryDays, ...(step.params.kmsType ? { kmsType: step.params.kmsType } : {}) };
    if (step.kind === 'payload') return { ...base, ...params, fields: ['(whole payload)'] };
    const tags = step.rule.tags ?? [];
    const selected = fields.filter((f) => (tags.length === 0 ? f.kind !== 'other' : ruleAppliesToTags(tags, fieldTags(f, metadataTags))));
    return {
      ...base, ...params,
      fields: selected.map((f) => (f.kind === 'other' ? `${f.fullName} (not string/bytes: fails on write)` : f.fullName)),
      ...(selected.length === 0 ? { note: 'no field of the schema carries these tags' } : {}),
    };
  });
}

async function latestOrNull(fetch: () => Promise<RegisteredSchema>): Promise<RegisteredSchema | null> {
  try {
    return await fetch();
  } catch (err) {
    if (isRecryptError(err) && err.code === 'REGISTRY_NOT_FOUND') return null;
    throw err;
  }
}

export async function planJob(job: Job, config: ServiceConfig): Promise<PlannedRoute[]> {
  const { schemaRegistry } = registryClients(config);
  const schemas = new SchemaStore(schemaRegistry);
  const existing = job.spec.source.topicPattern !== undefined ? await listTopics(config.kafka) : [];
  const out: PlannedRoute[] = [];
  for (const source of sourceTopicsOf(job, existing)) {
    const target = targetTopicFor(job, source);
    const targetSubject = targetSubjectFor(job, source);
    const writer = await latestOrNull(() => schemaRegistry.getLatest(`${source}-value`));
    let targetSchema = await latestOrNull(() => schemaRegistry.getLatest(targetSubject));
    let virtual = false;
    if (job.spec.rules) {
      const base = targetSchema ?? writer;
      if (base) {
        targetSchema = { ...base, id: targetSchema?.id ?? -1, ruleSet: withRuleDefaults(job.spec.rules) };
        virtual = true;
      }
    }
    const route = {
      source, target, targetSubject, sourceSubject: `${source}-value`,
      ...(writer ? { sourceSchema: { id: writer.id, ...(writer.version ? { version: writer.version } : {}) } } : {}),
      ...(targetSchema ? { targetSchema: { id: targetSchema.id, ...(targetSchema.version ? { version: targetSchema.version } : {}), virtual } } : {}),
    };
    let decrypt: PlannedStep[] = [];
    let encrypt: PlannedStep[] = [];
    if (writer) {
      const loaded = await schemas.adopt(writer, `${source}-value`);
      const subject = sourceSubject(job.spec.source.subjectNameStrategy, source, loaded, false);
      decrypt = describeSide(compileSide(loaded, schemas.codec(loaded, loaded.schemaType === 'PROTOBUF' ? [0] : undefined), 'read', subject));
    }
    if (targetSchema) {
      const loaded = await schemas.adopt(targetSchema, targetSubject);
      encrypt = describeSide(compileSide(loaded, schemas.codec(loaded, loaded.schemaType === 'PROTOBUF' ? [0] : undefined), 'write', targetSubject));
    }
    const problems = targetSchema ? checkJobAgainstTargetRules(job, targetSchema.ruleSet, decrypt.length > 0) : [];
    out.push({ ...route, decrypt, encrypt, problems });
  }
  return out;
}
