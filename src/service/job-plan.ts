/**
 * `recrypt plan`: a dry run that reads the registry (and, for topic patterns, the topic list) and says,
 * per source topic, which fields each rule decrypts and encrypts with which KEK and algorithm. It
 * writes nothing: the job's rules are evaluated as the target subject would carry them. With
 * `checkKms`, each KEK the target rules encrypt with is checked as `run` checks it before registering
 * anything (registered and matching, or creatable; its KMS key wraps and unwraps a probe).
 */
import { compileSide, SchemaStore, sourceSubject, type Side } from '../engine/index.js';
import { checkJobAgainstTargetRules, sourceTopicsOf, targetSubjectFor, targetTopicFor, type Job, type Problem } from '../jobs/index.js';
import { listTopics } from '../kafka/topics.js';
import { checkKek, writeEncryptionParams, type KekCheck, type KekCheckDeps } from '../keys/index.js';
import { fieldTags, ruleAppliesToTags } from '../rules/index.js';
import type { RegisteredSchema } from '../registry/types.js';
import { errorCodeOf, isRecryptError, RecryptError } from '../util/errors.js';
import type { ServiceConfig } from './config.js';
import { registryClients, withRuleDefaults } from './job-runner.js';
import { sizeLimitProblems } from './topic-limits.js';
import { kmsRegistryFor } from './kms.js';

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
  /** With checkKms: each KEK of the target rules, checked (failed checks are also problems). */
  readonly kms?: readonly PlannedKmsCheck[];
}

export type PlannedKmsCheck = KekCheck | { readonly kek: string; readonly status: 'failed'; readonly code: string };

export interface PlanOptions {
  /** Check the target rules' KEKs and KMS keys (a wrap and unwrap of a random probe; nothing registered). */
  readonly checkKms?: boolean;
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

export async function planJob(job: Job, config: ServiceConfig, options: PlanOptions = {}): Promise<PlannedRoute[]> {
  const { schemaRegistry, dekRegistry } = registryClients(config);
  const schemas = new SchemaStore(schemaRegistry);
  const keys: KekCheckDeps | undefined = options.checkKms === true ? { dekRegistry, kms: kmsRegistryFor(config), kmsProps: config.kmsProps } : undefined;
  const existing = job.spec.source.topicPattern !== undefined ? await listTopics(config.kafka) : [];
  const topics = sourceTopicsOf(job, existing);
  // As `run` does: an empty plan would read as "nothing to do" when the pattern is wrong.
  if (topics.length === 0) throw new RecryptError('JOB_INVALID', `job ${job.metadata.name}: no source topic matches`);
  const out: PlannedRoute[] = [];
  for (const source of topics) {
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
    problems.push(...await sizeLimitProblems(config.kafka, job.metadata.name, { source, target }));
    if (keys !== undefined && targetSchema) {
      const kms = await checkKms(keys, job, targetSchema);
      problems.push(...kms.problems);
      encrypt = encrypt.map((step) => withKmsNote(step, kms.checks));
      out.push({ ...route, decrypt, encrypt, problems, kms: kms.checks });
    } else {
      out.push({ ...route, decrypt, encrypt, problems });
    }
  }
  return out;
}

/** A failed check is reported (with its code), not thrown: the rest of the plan is still worth reading. */
async function checkKms(deps: KekCheckDeps, job: Job, target: RegisteredSchema): Promise<{ checks: PlannedKmsCheck[]; problems: Problem[] }> {
  const checks: PlannedKmsCheck[] = [];
  const problems: Problem[] = [];
  for (const params of writeEncryptionParams(target.ruleSet, target)) {
    try {
      const check = await checkKek(deps, params);
      checks.push(check);
      if (check.status === 'unverified') {
        problems.push({
          code: 'JOB_UNSAFE', severity: 'warning', path: 'spec.rules', job: job.metadata.name,
          message: `KMS check of KEK ${check.kek} not done: the KMS did not answer (${check.code ?? 'KMS_UNAVAILABLE'}); run it again when the KMS is reachable`,
        });
      }
    } catch (err) {
      const code = errorCodeOf(err);
      checks.push({ kek: params.kekName, status: 'failed', code });
      problems.push({
        code: 'JOB_UNSAFE', severity: 'error', path: 'spec.rules', job: job.metadata.name,
        message: `KMS check failed: ${code}: ${isRecryptError(err) ? err.message : 'unexpected error'}`,
      });
    }
  }
  return { checks, problems };
}

function withKmsNote(step: PlannedStep, checks: readonly PlannedKmsCheck[]): PlannedStep {
  const check = checks.find((c) => c.kek === step.kek);
  if (check === undefined) return step;
  const note = check.status === 'failed' ? `KMS check FAILED: ${check.code}`
    : check.status === 'unverified' ? `KMS check: not verified, the KMS did not answer (${check.code ?? 'KMS_UNAVAILABLE'}); the KEK is registered already`
    : check.status === 'shared' ? 'KMS check: shared KEK, the registry wraps its DEKs'
      : `KMS check: ${check.kmsType} key ${check.kmsKeyId} wraps and unwraps${check.status === 'new' ? '; the KEK will be registered with it' : ''}`;
  return { ...step, note: step.note === undefined ? note : `${step.note}; ${note}` };
}
