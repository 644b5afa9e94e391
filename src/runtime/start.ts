/**
 * Starts a prepared job: mirrors the target (and DLQ) topics, reads the topics' size limits, and runs
 * the transactional pipeline with a processor that routes each record to its topic's transformer behind
 * the job's DLQ circuit breaker, timed and counted.
 */
import { DlqBreaker, describeDlqRecord } from '../dlq/index.js';
import { jobGroupId, streamingTransactionalId } from '../jobs/index.js';
import { TransactionalPipeline, type PartitionRange, type PipelineObserver, type PipelineSummary } from '../kafka/pipeline.js';
import { ensureMirroredTopic, snapshotOffsets } from '../kafka/topics.js';
import { partitionKey, type ProcessedRecord, type RecordProcessor, type SourceRecord } from '../kafka/types.js';
import { RecryptError } from '../util/errors.js';
import { dlqEvents, dlqPartitions } from './dlq-setup.js';
import type { RuntimeMetrics } from './metrics.js';
import type { PreparedJob } from './prepare.js';
import { refusedRecordsToDlq } from './refused-records.js';
import { topicLimits } from './topic-limits.js';

export interface RunOptions {
  readonly observer?: PipelineObserver;
  /** Explicit ranges (backfill tasks); default: from stopAt. */
  readonly ranges?: readonly PartitionRange[];
  /** Default: the job's streaming transactional id on this instance. */
  readonly transactionalId?: string;
  /** Default: the job's consumer group. */
  readonly groupId?: string;
}

export interface JobRun {
  readonly pipeline: TransactionalPipeline;
  readonly done: Promise<PipelineSummary>;
}

export async function startJob(prepared: PreparedJob, options: RunOptions = {}): Promise<JobRun> {
  const { job, runtime } = prepared;
  const { config, logger } = runtime;
  const name = job.metadata.name;
  for (const route of prepared.routes.values()) {
    const ensured = await ensureMirroredTopic(config.kafka, route.source, route.target, { create: job.spec.target.createTopic });
    if (ensured.created) logger.info('created target topic', { topic: route.target, partitions: ensured.partitions });
    route.transformer.usePartitions?.(ensured.partitions);
    if (route.dlqTopic !== undefined) {
      const partitions = await dlqPartitions(config.kafka, route.dlqTopic, route.source, job.spec.target.createTopic);
      if (partitions === null) logger.warn('DLQ topic does not exist and createTopic is false: records sent to the DLQ will halt their partition', { topic: route.dlqTopic });
    }
  }
  const sources = [...prepared.routes.keys()];
  const routes = [...prepared.routes.values()];
  const limits = await topicLimits(config.kafka, routes, routes.flatMap((r) => (r.dlqTopic === undefined ? [] : [r.dlqTopic])));
  for (const warning of limits.warnings) logger.warn(warning, { job: name });
  const breaker = dlqBreakerFor(prepared);
  const divert = refusedRecordsToDlq(routes, {
    registry: runtime.registries().schemaRegistry, keys: prepared.keys, events: dlqEvents(name, logger, runtime.metrics),
    topics: { partitions: (topic, sourceTopic) => dlqPartitions(config.kafka, topic, sourceTopic, job.spec.target.createTopic) },
  });
  // A refused record that goes to the DLQ counts against the circuit breaker like any other DLQ record.
  const onRefused = divert && (async (record: SourceRecord, error: RecryptError): Promise<ProcessedRecord> => {
    const storm = breaker.divertLate(record);
    return storm ? { halt: storm } : divert(record, error);
  });
  let ranges = options.ranges;
  if (!ranges && job.spec.source.stopAt === 'end') {
    ranges = (await snapshotOffsets(config.kafka, sources)).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
  }
  const processing = job.spec.processing;
  // The threads load their modules while the consumer joins its group, not with the first batch.
  prepared.threads?.warm();
  const pipeline = new TransactionalPipeline({
    name,
    connection: config.kafka,
    clients: runtime.clients,
    groupId: options.groupId ?? jobGroupId(name),
    transactionalId: options.transactionalId ?? streamingTransactionalId(name, config.instanceId),
    topics: sources,
    ...(ranges ? { ranges } : {}),
    startAt: job.spec.source.startAt,
    processor: measuredProcessor(routingProcessor(prepared, breaker), prepared, runtime.metrics),
    batchSize: processing.batchSize,
    commitIntervalMs: processing.commitIntervalMs,
    transactionTimeoutMs: processing.transactionTimeoutMs,
    backoff: { initialMs: processing.retryBackoffMs, maxMs: processing.retryBackoffMaxMs },
    topicMaxBytes: limits.outputMaxBytes,
    ...(onRefused ? { onRefused } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  // The engine's threads end with the run (a later run of the same prepared job starts new ones).
  const done = pipeline.run().finally(async () => {
    prepared.flushLogs();
    const threads = prepared.threads;
    if (threads === undefined) return;
    logger.info('engine worker threads', { job: name, threads: threads.threads, records: threads.counts.sent, done: threads.counts.done });
    await threads.close();
  });
  return { pipeline, done };
}

/** The job's DLQ circuit breaker (dlq/breaker.ts): one per run, over all its topics and partitions. */
function dlqBreakerFor(prepared: PreparedJob): DlqBreaker {
  const dlq = prepared.job.spec.dlq;
  return new DlqBreaker({
    // A job without a dlq section may still divert through a rule's own dlq.topic: the defaults apply.
    maxRatio: dlq?.maxRatio ?? 0.5,
    window: dlq?.window ?? 1000,
    dlqTopics: [...new Set([...prepared.routes.values()].flatMap((r) => (r.dlqTopic === undefined ? [] : [r.dlqTopic])))],
  });
}

/** Dispatches each record to its topic's transformer, keeping batch order, behind the breaker. */
function routingProcessor(prepared: PreparedJob, breaker: DlqBreaker): RecordProcessor {
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
function measuredProcessor(processor: RecordProcessor, prepared: PreparedJob, metrics: RuntimeMetrics | undefined): RecordProcessor {
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
