/**
 * Turns a validated Job into a running pipeline: resolves source topics, puts the job's rules on the
 * target subject, fetches the target schema, refuses unsafe combinations against the registry's rules,
 * mirrors the target topic, and wires engine -> kafka. `prepareJob` is shared by `recrypt plan`
 * (dry run, no Kafka writes) and `recrypt run` / `recrypt serve`.
 */
import { DlqBreaker, DlqWriter, describeDlqRecord, type DlqEvents } from '../dlq/index.js';
import { RecordTransformer, SchemaStore, type LoadedSchema } from '../engine/index.js';
import {
  checkJobAgainstTargetRules, dlqTopicFor, formatProblems, sourceTopicsOf, targetSubjectFor, targetTopicFor, type Job,
} from '../jobs/index.js';
import { checkDlqSourcePolicy } from '../jobs/semantic.js';
import { TransactionalPipeline, type PipelineObserver, type PipelineSummary, type PartitionRange } from '../kafka/pipeline.js';
import { describeTopic, ensureMirroredTopic, listTopics, snapshotOffsets } from '../kafka/topics.js';
import { partitionKey, type ProcessedRecord, type RecordProcessor, type SourceRecord } from '../kafka/types.js';
import { DekManager } from '../keys/index.js';
import type { KmsDriverRegistry } from '../kms/kms-driver.js';
import { DekRegistryClient, SchemaRegistryClient } from '../registry/index.js';
import type { RegisteredSchema, RuleSet, SchemaRegistryApi } from '../registry/types.js';
import { RecryptError, isRecryptError } from '../util/errors.js';
import { LogAggregator } from '../util/log-aggregator.js';
import type { Logger } from '../util/logger.js';
import type { ServiceConfig } from './config.js';
import type { JobMetrics } from './metrics.js';
import { refusedRecordsToDlq } from './refused-records.js';
import { topicLimits } from './topic-limits.js';

export interface RunnerDeps {
  readonly config: ServiceConfig;
  readonly kms: KmsDriverRegistry;
  readonly logger: Logger;
  readonly metrics?: JobMetrics;
}

export interface TopicRoute {
  readonly source: string;
  readonly target: string;
  readonly targetSubject: string;
  readonly targetSchema: LoadedSchema;
  readonly sourceSchema?: RegisteredSchema;
  readonly transformer: RecordTransformer;
  /** The job-level DLQ topic of this source, when the job has a dlq section. */
  readonly dlqTopic?: string;
}

export interface PreparedJob {
  readonly job: Job;
  readonly routes: ReadonlyMap<string, TopicRoute>;
  readonly schemas: SchemaStore;
  readonly keys: DekManager;
  /** Logs the rule failures still counted (one summary line per rule, action and code); call at job end. */
  readonly flushLogs: () => void;
}

/** Rule failures are logged once per (rule, direction, action, code) per interval with a count, not per record. */
const RULE_FAILURE_LOG_INTERVAL_MS = 10_000;

export function registryClients(config: ServiceConfig) {
  const http = {
    baseUrls: [...config.registry.urls], timeoutMs: config.registry.timeoutMs,
    ...(config.registry.basicAuth ? { basicAuth: config.registry.basicAuth } : {}),
    ...(config.registry.bearerToken ? { bearerToken: config.registry.bearerToken } : {}),
  };
  return { schemaRegistry: new SchemaRegistryClient(http), dekRegistry: new DekRegistryClient(http) };
}

async function latestOrNull(registry: SchemaRegistryApi, subject: string): Promise<RegisteredSchema | null> {
  try {
    return await registry.getLatest(subject);
  } catch (err) {
    if (isRecryptError(err) && err.code === 'REGISTRY_NOT_FOUND') return null;
    throw err;
  }
}

function hasEncryptRule(ruleSet: RuleSet | undefined): boolean {
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
async function applyJobRules(job: Job, registry: SchemaRegistryApi, targetSubject: string, sourceSchema: RegisteredSchema | null): Promise<void> {
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

async function targetSchemaFor(job: Job, registry: SchemaRegistryApi, subject: string): Promise<RegisteredSchema> {
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

export async function prepareJob(job: Job, deps: RunnerDeps): Promise<PreparedJob> {
  const { config, kms, logger } = deps;
  const { schemaRegistry, dekRegistry } = registryClients(config);
  const schemas = new SchemaStore(schemaRegistry);
  const keys = new DekManager({
    dekRegistry, kms, kmsProps: config.kmsProps,
    logger: { warn: (message, fields) => logger.warn(message, fields) },
    ...(deps.metrics ? { metrics: deps.metrics.keysHook } : {}),
  });
  const existing = job.spec.source.topicPattern !== undefined ? await listTopics(config.kafka) : [];
  const topics = sourceTopicsOf(job, existing);
  if (topics.length === 0) throw new RecryptError('JOB_INVALID', `job ${job.metadata.name}: no source topic matches`);

  const ruleFailures = new LogAggregator<{ rule: string; direction: string; action: string; code: string }>({
    intervalMs: RULE_FAILURE_LOG_INTERVAL_MS,
    first: (e) => logger.warn('rule failed', e),
    summary: (e, count, intervalMs) => logger.warn('rule failures', { ...e, count, intervalMs }),
  });
  const routes = new Map<string, TopicRoute>();
  for (const source of topics) {
    const target = targetTopicFor(job, source);
    const targetSubject = targetSubjectFor(job, source);
    const sourceSchema = await latestOrNull(schemaRegistry, `${source}-value`);
    // The KMS keys the rules name must wrap before the rules (and, later, their KEKs) are registered.
    if (job.spec.rules) await keys.checkKeks(withRuleDefaults(job.spec.rules), (await latestOrNull(schemaRegistry, targetSubject)) ?? sourceSchema ?? undefined);
    await applyJobRules(job, schemaRegistry, targetSubject, sourceSchema);
    const registered = await targetSchemaFor(job, schemaRegistry, targetSubject);
    if (!job.spec.rules) await keys.checkKeks(registered.ruleSet, registered);
    const problems = [...checkJobAgainstTargetRules(job, registered.ruleSet, hasEncryptRule(sourceSchema?.ruleSet)), ...checkDlqSourcePolicy(job, sourceSchema?.ruleSet)]
      .filter((p) => p.severity === 'error');
    if (problems.length) {
      throw new RecryptError('JOB_UNSAFE', `job ${job.metadata.name} refused for ${source} -> ${target}:\n  ${formatProblems(problems).join('\n  ')}`);
    }
    const targetSchema = await schemas.adopt(registered, targetSubject);
    const dlqTopic = dlqTopicFor(job, source);
    const dlq = new DlqWriter({
      ...(dlqTopic !== undefined ? { topic: dlqTopic } : {}),
      policy: job.spec.dlq?.payload ?? 'reference',
      ...(job.spec.dlq?.kek ? { kek: job.spec.dlq.kek } : {}),
      catchPoison: job.spec.dlq !== undefined,
      registry: schemaRegistry,
      keys,
      topics: { partitions: (topic, sourceTopic) => dlqPartitions(config, topic, sourceTopic, job.spec.target.createTopic) },
      // Not `routed`: the engine's DLQ records are counted by measuredProcessor after the DLQ circuit
      // breaker (the record that trips it is built, never produced).
      events: withoutRouted(dlqEvents(job.metadata.name, deps)),
    });
    const transformer = new RecordTransformer({
      schemas, keys, mode: job.spec.mode, subjectNameStrategy: job.spec.source.subjectNameStrategy,
      target: { schema: targetSchema, subject: targetSubject, topicFor: () => target },
      allowPlaintextOnEncryptFailure: job.spec.allowPlaintextOnEncryptFailure,
      maxInFlight: job.spec.processing.maxInFlight,
      onRuleFailure: (e) => {
        ruleFailures.record({ rule: e.rule, direction: e.direction, action: e.action, code: e.code });
        deps.metrics?.ruleFailure(job.metadata.name, e.rule, e.action, e.code);
      },
      dlq,
    });
    routes.set(source, {
      source, target, targetSubject, targetSchema, ...(sourceSchema ? { sourceSchema } : {}), transformer, ...(dlqTopic !== undefined ? { dlqTopic } : {}),
    });
  }
  return { job, routes, schemas, keys, flushLogs: () => ruleFailures.flush() };
}

/**
 * Partition count of a DLQ topic; created (mirroring the source's partitions and configs, but never
 * compacted: DLQ records have no key) when the job may create topics, else null when missing;
 * KAFKA_TOPIC when it exists compacted.
 */
async function dlqPartitions(config: ServiceConfig, topic: string, source: string, create: boolean): Promise<number | null> {
  const existing = await describeTopic(config.kafka, topic);
  if (existing) {
    // The broker refuses keyless records on a compacted topic: every DLQ write would abort its
    // transaction, and the batch would be retried for ever. Say so once instead.
    const policy = existing.configs['cleanup.policy'] ?? '';
    if (policy.split(',').map((p) => p.trim()).includes('compact')) {
      throw new RecryptError('KAFKA_TOPIC', `DLQ topic ${topic} is compacted (cleanup.policy=${policy}); DLQ records carry no key, which a compacted topic refuses: use cleanup.policy=delete`);
    }
    return existing.partitions;
  }
  if (!create) return null;
  return (await ensureMirroredTopic(config.kafka, source, topic, { create: true, extraConfigs: { 'cleanup.policy': 'delete' } })).partitions;
}

/** DLQ metrics and log lines: topics, partitions, offsets, codes and where the guard hit; never a value. */
function dlqEvents(job: string, deps: RunnerDeps): DlqEvents {
  const { logger, metrics } = deps;
  return {
    routed: (e) => metrics?.dlqRouted(job, e.topic, e.policy, e.cause),
    blocked: (e) => {
      logger.error('DLQ guard blocked a record carrying tagged plaintext; partition halted', {
        job, dlqTopic: e.topic, policy: e.policy, partition: e.partition, offset: e.offset, where: e.where, encoding: e.encoding,
      });
      metrics?.dlqBlocked(job, e.topic, e.policy);
    },
    failed: (e) => {
      logger.error('DLQ record not written; partition halted', { job, dlqTopic: e.topic, policy: e.policy, partition: e.partition, offset: e.offset, code: e.code });
      metrics?.dlqFailed(job, e.topic, e.policy, e.code);
    },
  };
}

function withoutRouted(events: DlqEvents): DlqEvents {
  const { routed: _countedElsewhere, ...rest } = events;
  return rest;
}

/**
 * Dispatches each record to its topic's transformer, keeping batch order, behind the job's DLQ circuit
 * breaker (dlq/breaker.ts: one per run, over all the job's topics and partitions).
 */
function routingProcessor(prepared: PreparedJob): RecordProcessor {
  const dlq = prepared.job.spec.dlq;
  const breaker = new DlqBreaker({
    // A job without a dlq section may still divert through a rule's own dlq.topic: the defaults apply.
    maxRatio: dlq?.maxRatio ?? 0.5,
    window: dlq?.window ?? 1000,
    dlqTopics: [...new Set([...prepared.routes.values()].flatMap((r) => (r.dlqTopic === undefined ? [] : [r.dlqTopic])))],
  });
  const route = routeBatch(prepared);
  return async (batch) => breaker.check(batch, await route(batch));
}

function routeBatch(prepared: PreparedJob) {
  return async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => {
    const routes = [...prepared.routes.values()];
    if (routes.length === 1) return routes[0]!.transformer.process(batch);
    const byTopic = new Map<string, { indexes: number[]; records: SourceRecord[] }>();
    batch.forEach((record, i) => {
      const group = byTopic.get(record.topic) ?? { indexes: [], records: [] };
      group.indexes.push(i);
      group.records.push(record);
      byTopic.set(record.topic, group);
    });
    const out = new Array<ProcessedRecord>(batch.length);
    for (const [topic, group] of byTopic) {
      const route = prepared.routes.get(topic);
      if (!route) throw new RecryptError('INTERNAL', `no route for topic ${topic}`);
      const results = await route.transformer.process(group.records);
      group.indexes.forEach((index, j) => { out[index] = results[j]!; });
    }
    return out;
  };
}

/**
 * Times each batch's transform and publishes the engines' field operation and cache-miss counts, and the
 * DLQ records the batch produces.
 */
function measuredProcessor(processor: RecordProcessor, prepared: PreparedJob, metrics: JobMetrics | undefined): RecordProcessor {
  if (!metrics) return processor;
  const job = prepared.job.metadata.name;
  return async (batch) => {
    const started = process.hrtime.bigint();
    try {
      const results = await processor(batch);
      // The loop drops what follows a halt in its partition: those DLQ records are never produced.
      const halted = new Set<string>();
      for (let i = 0; i < results.length; i++) {
        const result = results[i]!;
        const key = partitionKey(batch[i]!.topic, batch[i]!.partition);
        if ('halt' in result) halted.add(key);
        if (!('outputs' in result) || result.dlq !== true || halted.has(key)) continue;
        for (const out of result.outputs) {
          const { topic, policy, cause } = describeDlqRecord(out);
          metrics.dlqRouted(job, topic, policy, cause);
        }
      }
      return results;
    } finally {
      metrics.transformed(job, Number(process.hrtime.bigint() - started) / 1e9);
      for (const route of prepared.routes.values()) metrics.engineStats(job, route.transformer.drainStats());
    }
  };
}

export interface RunOptions {
  readonly observer?: PipelineObserver;
  /** Explicit ranges (backfill tasks); default: from stopAt. */
  readonly ranges?: readonly PartitionRange[];
  readonly transactionalId?: string;
}

export interface JobRun {
  readonly pipeline: TransactionalPipeline;
  readonly done: Promise<PipelineSummary>;
}

export async function startJob(prepared: PreparedJob, deps: RunnerDeps, options: RunOptions = {}): Promise<JobRun> {
  const { job } = prepared;
  const { config } = deps;
  const name = job.metadata.name;
  for (const route of prepared.routes.values()) {
    const ensured = await ensureMirroredTopic(config.kafka, route.source, route.target, { create: job.spec.target.createTopic });
    if (ensured.created) deps.logger.info('created target topic', { topic: route.target, partitions: ensured.partitions });
    if (route.dlqTopic !== undefined) {
      const partitions = await dlqPartitions(config, route.dlqTopic, route.source, job.spec.target.createTopic);
      if (partitions === null) deps.logger.warn('DLQ topic does not exist and createTopic is false: records sent to the DLQ will halt their partition', { topic: route.dlqTopic });
    }
  }
  const sources = [...prepared.routes.keys()];
  const routes = [...prepared.routes.values()];
  const limits = await topicLimits(config.kafka, routes, routes.flatMap((r) => (r.dlqTopic === undefined ? [] : [r.dlqTopic])));
  for (const warning of limits.warnings) deps.logger.warn(warning, { job: name });
  const onRefused = refusedRecordsToDlq(routes, {
    registry: registryClients(config).schemaRegistry, keys: prepared.keys, events: dlqEvents(name, deps),
    topics: { partitions: (topic, sourceTopic) => dlqPartitions(config, topic, sourceTopic, job.spec.target.createTopic) },
  });
  let ranges = options.ranges;
  if (!ranges && job.spec.source.stopAt === 'end') {
    ranges = (await snapshotOffsets(config.kafka, sources)).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
  }
  const processing = job.spec.processing;
  const pipeline = new TransactionalPipeline({
    name,
    connection: config.kafka,
    groupId: `recrypt-${name}`,
    transactionalId: options.transactionalId ?? `recrypt-${name}-${config.instanceId}`,
    topics: sources,
    ...(ranges ? { ranges } : {}),
    startAt: job.spec.source.startAt,
    processor: measuredProcessor(routingProcessor(prepared), prepared, deps.metrics),
    batchSize: processing.batchSize,
    transactionTimeoutMs: processing.transactionTimeoutMs,
    backoff: { initialMs: processing.retryBackoffMs, maxMs: processing.retryBackoffMaxMs },
    topicMaxBytes: limits.outputMaxBytes,
    ...(onRefused ? { onRefused } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  return { pipeline, done: pipeline.run().finally(() => prepared.flushLogs()) };
}
