/**
 * `recrypt plan`: a dry run that reads the registry (and, for topic patterns, the topic list) and says,
 * per source topic, which fields each rule decrypts and encrypts with which KEK and algorithm. It
 * writes nothing: the job's rules are evaluated as the target subject would carry them. With
 * `checkKms`, each KEK the target rules encrypt with is checked as `run` checks it before registering
 * anything (registered and matching, or creatable; its KMS key wraps and unwraps a probe). It runs on
 * the job runtime of `run`, with registry clients that refuse writes. A job in a join group shows the
 * group (name, subjects, the anchor where its DEKs are created), each encrypting step says it writes
 * with the group's shared DEK, and the group's DEKs are checked as `run` checks them at start.
 */
import { celFieldSelector, compileSide, encryptingSteps, isCelStep, isKeyedStep, SchemaStore, sourceSubject, type Side } from '../engine/index.js';
import { checkJobAgainstTargetRules, checkJoinGroupAgainstTarget, targetSubjectFor, targetTopicFor, type Job, type Problem } from '../jobs/index.js';
import { checkKek, DekManager, writeEncryptionParams, type KekCheck, type KekCheckDeps } from '../keys/index.js';
import { fieldTags, ruleAppliesToTags } from '../rules/index.js';
import type { RegisteredSchema } from '../registry/types.js';
import {
  createJobRuntime, joinGroupsOf, plannedMigrations, type PlannedMigration, keySubjectsOf, joinGroupView, latestOrNull, sizeLimitProblems, withRuleDefaults, writeScopeOf, type JoinGroupView,
} from '../runtime/index.js';
import { errorCodeOf, isRecryptError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import type { ServiceConfig } from './config.js';

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
  /** The join group the target subject is in: its encrypting steps write with the group's shared DEK. */
  readonly joinGroup?: JoinGroupView;
  /** With keys: rules, the key subjects whose rules read and write the record keys. */
  readonly keySubjects?: { readonly source: string; readonly target: string };
  readonly decrypt: readonly PlannedStep[];
  readonly encrypt: readonly PlannedStep[];
  readonly problems: readonly Problem[];
  /** With checkKms: each KEK of the target rules, checked (failed checks are also problems). */
  readonly kms?: readonly PlannedKmsCheck[];
  /** Writing with the latest version of the source's own subject: each other version's JSONata migration steps. */
  readonly migrations?: readonly PlannedMigration[];
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
    if (isCelStep(step)) {
      const kind = step.rule.kind ?? 'TRANSFORM';
      if (step.rule.type !== 'CEL_FIELD') return { ...base, fields: ['(whole record)'], note: `CEL ${kind}: a record it does not hold for takes the failure action` };
      const selected = fields.filter(celFieldSelector(step.rule, metadataTags));
      return {
        ...base, fields: selected.map((f) => f.fullName),
        note: kind === 'CONDITION' ? 'CEL_FIELD CONDITION: a field it does not hold for takes the failure action' : 'CEL_FIELD TRANSFORM: the expression rewrites these fields',
      };
    }
    if (!isKeyedStep(step)) return { ...base, fields: [], note: 'recrypt does not execute this rule type: every record takes its failure action' };
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

export async function planJob(job: Job, config: ServiceConfig, options: PlanOptions = {}): Promise<PlannedRoute[]> {
  // The same runtime `run` builds, with registry clients that refuse every write.
  const runtime = createJobRuntime(config, job, { logger: silentLogger, readOnly: true });
  const { schemaRegistry, dekRegistry } = runtime.registries();
  const schemas = new SchemaStore(schemaRegistry);
  const keys: KekCheckDeps | undefined = options.checkKms === true ? { dekRegistry, kms: runtime.kms, kmsProps: config.kmsProps } : undefined;
  const topics = await runtime.sourceTopics();
  const groups = joinGroupsOf(job);
  const out: PlannedRoute[] = [];
  for (const source of topics) {
    const target = targetTopicFor(job, source);
    const targetSubject = targetSubjectFor(job, source);
    const writer = await latestOrNull(schemaRegistry, `${source}-value`);
    let targetSchema = await latestOrNull(schemaRegistry, targetSubject);
    let virtual = false;
    if (job.spec.rules) {
      const base = targetSchema ?? writer;
      if (base) {
        targetSchema = { ...base, id: targetSchema?.id ?? -1, ruleSet: withRuleDefaults(job.spec.rules) };
        virtual = true;
      }
    }
    const group = groups.ofSubject(targetSubject);
    // target.upgrade: every version of the source subject to its latest; else in place, to the target version.
    const migrateTo = job.spec.target.upgrade === 'latest' ? writer?.version : targetSubject === `${source}-value` && !virtual ? targetSchema?.version : undefined;
    const migrating = migrateTo === undefined ? undefined : await plannedMigrations(schemaRegistry, `${source}-value`, migrateTo, job.metadata.name);
    const route = {
      ...(migrating && migrating.migrations.length > 0 ? { migrations: migrating.migrations } : {}),
      source, target, targetSubject, sourceSubject: `${source}-value`,
      ...(group ? { joinGroup: joinGroupView(group) } : {}),
      ...(writer ? { sourceSchema: { id: writer.id, ...(writer.version ? { version: writer.version } : {}) } } : {}),
      ...(targetSchema ? { targetSchema: { id: targetSchema.id, ...(targetSchema.version ? { version: targetSchema.version } : {}), virtual } } : {}),
    };
    let decrypt: PlannedStep[] = [];
    let encrypt: PlannedStep[] = [];
    let groupProblems: Problem[] = [];
    if (writer) {
      const loaded = await schemas.adopt(writer, `${source}-value`);
      const subject = sourceSubject(job.spec.source.subjectNameStrategy, source, loaded, false);
      decrypt = describeSide(compileSide(loaded, schemas.codec(loaded, loaded.schemaType === 'PROTOBUF' ? [0] : undefined), 'read', subject));
    }
    if (targetSchema) {
      const loaded = await schemas.adopt(targetSchema, targetSubject);
      const side = compileSide(loaded, schemas.codec(loaded, loaded.schemaType === 'PROTOBUF' ? [0] : undefined), 'write', targetSubject, undefined, writeScopeOf(groups));
      encrypt = describeSide(side).map((step) => withGroupNote(step, route.joinGroup));
      if (group) groupProblems = await groupDekProblems(job, new DekManager({ dekRegistry, kms: runtime.kms, kmsProps: config.kmsProps, joinGroups: groups }), side);
    }
    const problems = targetSchema ? checkJobAgainstTargetRules(job, targetSchema.ruleSet, decrypt.length > 0) : [];
    problems.push(...checkJoinGroupAgainstTarget(job, targetSubject, targetSchema ?? undefined), ...groupProblems, ...migrating?.problems ?? []);
    problems.push(...await sizeLimitProblems(config.kafka, job.metadata.name, { source, target }));
    // keys: rules: the source and target key subjects, as `run` checks them at start.
    let keySubjects: { readonly source: string; readonly target: string } | undefined;
    if (job.spec.keys === 'rules') {
      const found = await keySubjectsOf(job, schemaRegistry, source);
      keySubjects = { source: found.sourceKeySubject, target: found.targetKeySubject };
      problems.push(...found.problems);
    }
    if (keys !== undefined && targetSchema) {
      const kms = await checkKms(keys, job, targetSchema);
      problems.push(...kms.problems);
      encrypt = encrypt.map((step) => withKmsNote(step, kms.checks));
      out.push({ ...route, ...(keySubjects ? { keySubjects } : {}), decrypt, encrypt, problems, kms: kms.checks });
    } else {
      out.push({ ...route, ...(keySubjects ? { keySubjects } : {}), decrypt, encrypt, problems });
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

/** The group's DEKs as run checks them at start (read-only): JOIN_GROUP_DIVERGED is an error; a check that could not run, a warning. */
async function groupDekProblems(job: Job, keys: DekManager, side: Side): Promise<Problem[]> {
  const problem = (severity: Problem['severity'], message: string): Problem => ({ code: 'JOB_INVALID', severity, path: 'spec.target.joinGroup', job: job.metadata.name, message });
  try {
    for (const step of encryptingSteps(side)) await keys.checkJoinGroup(step.dek, step.params);
    return [];
  } catch (err) {
    const code = errorCodeOf(err);
    if (code === 'JOIN_GROUP_DIVERGED' && isRecryptError(err)) return [problem('error', `${code}: ${err.message}`)];
    return [problem('warning', `the join group's DEKs were not checked: ${code}; run checks them at start`)];
  }
}

function withGroupNote(step: PlannedStep, group: JoinGroupView | undefined): PlannedStep {
  if (group === undefined || step.kek === undefined) return step;
  const note = `DEK shared by join group ${group.name}: created at ${group.anchor} (anchor), registered under ${group.subjects.join(', ')}`;
  return { ...step, note: step.note === undefined ? note : `${step.note}; ${note}` };
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
