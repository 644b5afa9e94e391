/**
 * Turns a job runtime into routes, one per source topic: checks the job (its rules as they would be
 * registered, the source schemas, the KEKs' KMS keys, with `keys: rules` the key subjects: key-targets.ts)
 * before anything is registered, then puts the job's rules on the target subjects, fetches the target
 * schema, checks it again, and builds each topic's DLQ writer and record transformer (both parts'
 * driver, engine/part-driver.ts, when keys are transformed or records placed by key hash). Nothing here touches Kafka records; start.ts does.
 */
import { DlqWriter } from '../dlq/index.js';
import { EnginePool, migrationResolver, PartsTransformer, RecordTransformer, SchemaStore, type LoadedSchema, type RecordEngine, type TransformerOptions } from '../engine/index.js';
import { checkJobAgainstTargetRules, checkJoinGroupAgainstTarget, dlqTopicFor, formatProblems, targetSubjectFor, targetTopicFor, type Job } from '../jobs/index.js';
import { checkDlqSourcePolicy } from '../jobs/semantic.js';
import { DekManager, type JoinGroups } from '../keys/index.js';
import type { RegisteredSchema, SchemaInfo, SchemaRegistryApi } from '../registry/types.js';
import { usableCpus } from '../util/cpu-limit.js';
import { RecryptError, isTransient } from '../util/errors.js';
import { LogAggregator } from '../util/log-aggregator.js';
import { dlqEvents, dlqPartitions, withoutRouted } from './dlq-setup.js';
import type { JobRuntime } from './job-runtime.js';
import { assertWritesWithGroup, checkGroupDeksAtStart, checkGroupRulesBeforeRegistering, joinGroupsOf, writeScopeOf } from './join-groups.js';
import { keyTargetForRun } from './key-targets.js';
import { plannedMigrations } from './migration-paths.js';
import { applyJobRules, hasEncryptRule, latestOrNull, targetSchemaFor, withRuleDefaults } from './target-rules.js';

export interface TopicRoute {
  readonly source: string;
  readonly target: string;
  readonly targetSubject: string;
  readonly targetSchema: LoadedSchema;
  readonly sourceSchema?: RegisteredSchema;
  /** The value's driver, or (keys: rules, partition: keyHash) both parts' (engine/part-driver.ts). */
  readonly transformer: RecordEngine;
  /** With keys: rules, the target key subject. */
  readonly targetKeySubject?: string;
  /** The job-level DLQ topic of this source, when the job has a dlq section. */
  readonly dlqTopic?: string;
}

export interface PreparedJob {
  readonly runtime: JobRuntime;
  readonly job: Job;
  readonly routes: ReadonlyMap<string, TopicRoute>;
  readonly schemas: SchemaStore;
  readonly keys: DekManager;
  /** The job's join group (spec.target.joinGroup), whose subjects share DEKs; empty without one. */
  readonly joinGroups: JoinGroups;
  /** Logs the rule failures still counted (one summary line per rule, action and code); call at job end. */
  readonly flushLogs: () => void;
  /** The engine's worker threads shared by every route (processing.workers); none when 0. Close at job end (start.ts). */
  readonly threads?: EnginePool;
}

/** processing.workers, else one thread per CPU the pod may use beside the main thread (librdkafka's callbacks, the transaction). */
export function engineWorkers(job: Job): number {
  return job.spec.processing.workers ?? usableCpus() - 1;
}

/** Rule failures are logged once per (rule, direction, action, code) per interval with a count, not per record. */
const RULE_FAILURE_LOG_INTERVAL_MS = 10_000;

export async function prepareJob(runtime: JobRuntime): Promise<PreparedJob> {
  const { job, config, logger, metrics } = runtime;
  const { schemaRegistry, dekRegistry } = runtime.registries();
  const schemas = new SchemaStore(schemaRegistry);
  const joinGroups = joinGroupsOf(job);
  const keys = new DekManager({
    dekRegistry, kms: runtime.kms, kmsProps: config.kmsProps, joinGroups,
    logger: { warn: (message, fields) => logger.warn(message, fields) },
    ...(metrics ? { metrics: metrics.keysHook } : {}),
  });
  const topics = await runtime.sourceTopics();
  // Threads start with the first batch big enough to share (engine/threads/link.ts), never for plan or
  // validate; making the pool has crypto/ keep DEK material for them (none is kept without threads).
  const workers = engineWorkers(job);
  const threads = workers > 0 ? new EnginePool({ threads: workers, warn: (message, fields) => logger.warn(message, fields) }) : undefined;

  const ruleFailures = new LogAggregator<{ rule: string; direction: string; action: string; code: string }>({
    intervalMs: RULE_FAILURE_LOG_INTERVAL_MS,
    first: (e) => logger.warn('rule failed', e),
    summary: (e, count, intervalMs) => logger.warn('rule failures', { ...e, count, intervalMs }),
  });
  // First every topic's checks, then registration: nothing is registered before the whole job has
  // passed its safety checks (on the rules as they would be registered) and its KEKs' KMS check.
  const checked: { source: string; target: string; targetSubject: string; sourceSchema: RegisteredSchema | null; keyTarget: { subject: string; schema: RegisteredSchema } | undefined }[] = [];
  for (const source of topics) {
    const target = targetTopicFor(job, source);
    const targetSubject = targetSubjectFor(job, source);
    refuseUpgradeElsewhere(job);
    const sourceSchema = await latestOrNull(schemaRegistry, `${source}-value`);
    if (job.spec.target.upgrade === 'latest' && sourceSchema?.version !== undefined) {
      // Every path to the latest version compiles before anything is registered or a record moves.
      const refused = (await plannedMigrations(schemaRegistry, `${source}-value`, sourceSchema.version, job.metadata.name)).problems.filter((p) => p.severity === 'error');
      if (refused.length) throw new RecryptError('JOB_UNSAFE', `job ${job.metadata.name} refused for ${source} -> ${target}:\n  ${formatProblems(refused).join('\n  ')}`);
    }
    if (job.spec.rules) {
      const ruleSet = withRuleDefaults(job.spec.rules);
      // The KMS keys the rules name must wrap before the rules (and, later, their KEKs) are registered.
      const base = (await latestOrNull(schemaRegistry, targetSubject)) ?? sourceSchema ?? undefined;
      await keys.checkKeks(ruleSet, base);
      refuseUnsafe(job, `${source} -> ${target}`, targetSubject, { ruleSet, ...(base?.metadata ? { metadata: base.metadata } : {}) }, sourceSchema);
      await checkGroupRulesBeforeRegistering(keys, joinGroups, targetSubject, ruleSet, base);
    }
    const keyTarget = job.spec.keys === 'rules' ? await keyTargetForRun(job, schemaRegistry, keys, source) : undefined;
    checked.push({ source, target, targetSubject, sourceSchema, keyTarget });
  }
  const routes = new Map<string, TopicRoute>();
  for (const { source, target, targetSubject, sourceSchema, keyTarget } of checked) {
    await applyJobRules(job, schemaRegistry, targetSubject, sourceSchema);
    const registered = await targetSchemaFor(job, schemaRegistry, targetSubject);
    if (!job.spec.rules) await keys.checkKeks(registered.ruleSet, registered);
    // Again on the target schema the job runs with (a pinned version or metadata may pick another one).
    refuseUnsafe(job, `${source} -> ${target}`, targetSubject, registered, sourceSchema);
    if (job.spec.target.upgrade === 'latest') await refuseUnrelatedUpgrade(job, schemaRegistry, source, targetSubject, registered);
    const targetSchema = await schemas.adopt(registered, targetSubject);
    const dlqTopic = dlqTopicFor(job, source);
    const dlq = new DlqWriter({
      ...(dlqTopic !== undefined ? { topic: dlqTopic } : {}),
      policy: job.spec.dlq?.payload ?? 'reference',
      ...(job.spec.dlq?.kek ? { kek: job.spec.dlq.kek } : {}),
      catchPoison: job.spec.dlq !== undefined,
      registry: schemaRegistry,
      keys,
      topics: { partitions: (topic, sourceTopic) => dlqPartitions(config.kafka, topic, sourceTopic, job.spec.target.createTopic) },
      // Not `routed`: the engine's DLQ records are counted by start.ts's measuredProcessor after the DLQ
      // circuit breaker (the record that trips it is built, never produced).
      events: withoutRouted(dlqEvents(job.metadata.name, logger, metrics)),
    });
    const options: TransformerOptions = {
      schemas, keys, mode: job.spec.mode, subjectNameStrategy: job.spec.source.subjectNameStrategy,
      target: { schema: targetSchema, subject: targetSubject, topicFor: () => target },
      allowPlaintextOnEncryptFailure: job.spec.allowPlaintextOnEncryptFailure,
      maxInFlight: job.spec.processing.maxInFlight,
      ...(threads ? { threads } : {}),
      writeScopeOf: writeScopeOf(joinGroups),
      // Writers of an older or newer version of the target subject migrate through its JSONata rules.
      migrations: migrationResolver(schemaRegistry, targetSchema, targetSubject, job.spec.target.upgrade === 'latest'),
      onRuleFailure: (e) => {
        ruleFailures.record({ rule: e.rule, direction: e.direction, action: e.action, code: e.code });
        metrics?.ruleFailure(job.metadata.name, e.rule, e.action, e.code);
      },
      dlq,
    };
    const keySchema = keyTarget === undefined ? undefined : await schemas.adopt(keyTarget.schema, keyTarget.subject);
    const partitioning = job.spec.target.partition ?? 'source';
    const transformer: RecordEngine = keySchema === undefined && partitioning === 'source' ? new RecordTransformer(options) : new PartsTransformer({
      ...options, partitioning,
      ...(keySchema === undefined || keyTarget === undefined ? {} : { keyTarget: { schema: keySchema, subject: keyTarget.subject, topicFor: () => target } }),
    });
    assertWritesWithGroup(job, joinGroups, targetSubject, transformer.targetSide());
    await checkGroupDeksAtStart(keys, transformer.targetSide());
    routes.set(source, {
      source, target, targetSubject, targetSchema, ...(sourceSchema ? { sourceSchema } : {}), transformer, ...(dlqTopic !== undefined ? { dlqTopic } : {}),
      ...(keyTarget ? { targetKeySubject: keyTarget.subject } : {}),
    });
  }
  return { runtime, job, routes, schemas, keys, joinGroups, flushLogs: () => ruleFailures.flush(), ...(threads ? { threads } : {}) };
}

/**
 * target.upgrade: latest upgrades records along the source subject's versions (the clients migrate within
 * one subject), to its latest version: the source subject is '<topic>-value' and the target schema latest.
 * The target subject may be the output topic's own, with the source's latest schema (job rules put it there).
 */
function refuseUpgradeElsewhere(job: Job): void {
  if (job.spec.target.upgrade !== 'latest') return;
  if (job.spec.target.schema !== 'latest' || job.spec.source.subjectNameStrategy !== 'topic') {
    throw new RecryptError('JOB_INVALID', `job ${job.metadata.name}: target.upgrade: latest needs target.schema latest and source.subjectNameStrategy topic`);
  }
}

/** target.upgrade writes with a version of the source's subject, its latest: else the output could not be reached by migration. */
async function refuseUnrelatedUpgrade(job: Job, registry: SchemaRegistryApi, source: string, targetSubject: string, target: RegisteredSchema): Promise<void> {
  const sourceSubject = `${source}-value`;
  const latest = await registry.getLatest(sourceSubject);
  const found = await registry.lookup(sourceSubject, { schema: target.schema, ...(target.schemaType ? { schemaType: target.schemaType } : {}), ...(target.references ? { references: target.references } : {}) })
    .catch((err: unknown) => { if (isTransient(err)) throw err; return undefined; });
  if (found?.version !== latest.version) {
    throw new RecryptError('JOB_UNSAFE', `job ${job.metadata.name}: target.upgrade: latest, but the schema of ${targetSubject} is not the latest version (${latest.version ?? '?'}) of ${sourceSubject}`);
  }
}

/** JOB_UNSAFE when the job's checks against the target schema (its rules, the join group) and the source schema find an error. */
function refuseUnsafe(job: Job, where: string, targetSubject: string, target: Pick<SchemaInfo, 'ruleSet' | 'metadata'>, sourceSchema: RegisteredSchema | null): void {
  const problems = [
    ...checkJobAgainstTargetRules(job, target.ruleSet, hasEncryptRule(sourceSchema?.ruleSet)), ...checkDlqSourcePolicy(job, sourceSchema?.ruleSet),
    ...checkJoinGroupAgainstTarget(job, targetSubject, target),
  ].filter((p) => p.severity === 'error');
  if (problems.length) {
    throw new RecryptError('JOB_UNSAFE', `job ${job.metadata.name} refused for ${where}:\n  ${formatProblems(problems).join('\n  ')}`);
  }
}
