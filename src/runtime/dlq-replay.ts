/**
 * `recrypt dlq replay`: runs the records of a job's DLQ topics through the job again, exactly once into
 * its target. The job is prepared as `run` prepares it (prepare.ts: its checks, target rules, DLQ
 * writers, transformers); the pipeline is kafka/'s transactional one, over the DLQ topics up to the end
 * offsets seen at start, in the replay's own consumer group: each transaction holds the replayed
 * outputs and that group's DLQ offsets, so a replay that stops resumes where it committed and replays
 * nothing twice.
 *
 * Each DLQ record is decided by dlq/replay.ts (dlq-replay-plan.ts looks its source record up). A record
 * replayed goes through its source topic's transformer like a live record: it lands in the target
 * partition of its source record (after whatever the live job wrote there meanwhile), a failure takes
 * the rule's action (DLQ records it writes carry one more `__dlq.replay.attempts`; the guard applies as
 * always), ERROR halts the DLQ partition at that record. A record not replayable is passed over: its
 * offset is committed with the batch, and the report lists it.
 */
import { dlqReplayGroupId, dlqReplayTransactionalId } from '../jobs/index.js';
import { ensureMirroredTopic } from '../kafka/topics.js';
import { TransactionalPipeline, type PipelineObserver, type PipelineSummary } from '../kafka/pipeline.js';
import { withReplayAttempt, type DlqEntry } from '../dlq/index.js';
import { RecryptError } from '../util/errors.js';
import type { ProcessedRecord, RecordProcessor, SourceRecord } from '../util/records.js';
import { coordinatesKey } from './dlq-sources.js';
import { decideBatch, replayRanges, replayScope, type ReplayReport, type ReplayScope } from './dlq-replay-plan.js';
import type { JobRuntime } from './job-runtime.js';
import { prepareJob, type PreparedJob } from './prepare.js';
import { topicLimits } from './topic-limits.js';

export interface ReplayOptions {
  /** DLQ topics to replay; default the job-level DLQ topics of the job's sources. */
  readonly topics?: readonly string[];
  readonly maxAttempts?: number;
  readonly observer?: PipelineObserver;
  /** Default dlqReplayTransactionalId(job). */
  readonly transactionalId?: string;
}

export interface ReplayRun {
  readonly pipeline: TransactionalPipeline;
  /** The pipeline's summary and one report per DLQ record the replay committed past (replayed or passed over). */
  readonly done: Promise<{ summary: PipelineSummary; reports: ReplayReport[] }>;
}

export async function startReplay(runtime: JobRuntime, options: ReplayOptions = {}): Promise<ReplayRun> {
  const scope = await replayScope(runtime, options.topics, options.maxAttempts);
  const prepared = await prepareJob(runtime);
  const { job, config, logger } = runtime;
  for (const route of prepared.routes.values()) {
    const ensured = await ensureMirroredTopic(config.kafka, route.source, route.target, { create: job.spec.target.createTopic });
    if (ensured.created) logger.info('created target topic', { topic: route.target, partitions: ensured.partitions });
    route.transformer.usePartitions?.(ensured.partitions);
  }
  const routes = [...prepared.routes.values()];
  const dlqTopics = [...new Set([...scope.dlqTopics, ...routes.flatMap((r) => (r.dlqTopic === undefined ? [] : [r.dlqTopic]))])];
  const limits = await topicLimits(config.kafka, routes, dlqTopics);
  const ranges = (await replayRanges(runtime, scope.dlqTopics)).map(({ topic, partition, to }) => ({ topic, partition, to }));
  // Per DLQ record, the last decision made (a batch retried after a transient error decides again).
  const reports = new Map<string, ReplayReport>();
  const processing = job.spec.processing;
  const pipeline = new TransactionalPipeline({
    name: `${runtime.name}-dlq-replay`,
    connection: config.kafka,
    clients: runtime.clients,
    groupId: dlqReplayGroupId(runtime.name),
    transactionalId: options.transactionalId ?? dlqReplayTransactionalId(runtime.name),
    ranges,
    startAt: 'earliest',
    processor: replayProcessor(runtime, prepared, scope, reports),
    batchSize: processing.batchSize,
    transactionTimeoutMs: processing.transactionTimeoutMs,
    backoff: { initialMs: processing.retryBackoffMs, maxMs: processing.retryBackoffMaxMs },
    topicMaxBytes: limits.outputMaxBytes,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  // The engine's threads end with the replay, as with a run (start.ts).
  const done = pipeline.run().finally(async () => {
    prepared.flushLogs();
    await prepared.threads?.close();
  }).then((summary) => ({ summary, reports: committedReports(summary, reports) }));
  return { pipeline, done };
}

/** The reports of the DLQ records below each partition's committed offset, and of those that halted, in DLQ order. */
function committedReports(summary: PipelineSummary, reports: ReadonlyMap<string, ReplayReport>): ReplayReport[] {
  const committed = new Map(summary.partitions.map((p) => [`${p.topic}\u0000${p.partition}`, p.committed]));
  return [...reports.values()]
    .filter((r) => r.dlq.offset < (committed.get(`${r.dlq.topic}\u0000${r.dlq.partition}`) ?? 0) || r.result?.startsWith('halted') === true)
    .sort((a, b) => a.dlq.topic.localeCompare(b.dlq.topic) || a.dlq.partition - b.dlq.partition || a.dlq.offset - b.dlq.offset);
}

/** Decides a batch of DLQ records, runs the replayable ones through their topics' transformers, in order. */
function replayProcessor(runtime: JobRuntime, prepared: PreparedJob, scope: ReplayScope, reports: Map<string, ReplayReport>): RecordProcessor {
  return async (batch) => {
    const decided = await decideBatch(runtime, batch, scope.context);
    const out: ProcessedRecord[] = new Array(batch.length);
    const byTopic = new Map<string, { index: number; entry: DlqEntry; record: SourceRecord }[]>();
    decided.forEach((d, index) => {
      reports.set(coordinatesKey(d.report.dlq), d.report);
      if (d.replay === undefined) {
        out[index] = { outputs: [] };
        return;
      }
      const group = byTopic.get(d.replay.record.topic) ?? [];
      group.push({ index, ...d.replay });
      byTopic.set(d.replay.record.topic, group);
    });
    for (const [topic, group] of byTopic) {
      const route = prepared.routes.get(topic);
      if (!route) throw new RecryptError('INTERNAL', `no route for topic ${topic}`);
      const results = await route.transformer.process(group.map((g) => g.record));
      group.forEach(({ index, entry }, j) => {
        const result = results[j]!;
        const report = decided[index]!.report;
        if ('halt' in result) {
          out[index] = result;
          reports.set(coordinatesKey(report.dlq), { ...report, result: `halted ${result.halt.code}` });
        } else if (result.dlq === true) {
          // Back into the DLQ by the job's own handling, one attempt further: the limit ends the loop.
          out[index] = { outputs: result.outputs.map((o) => withReplayAttempt(o, entry)), dlq: true };
          reports.set(coordinatesKey(report.dlq), { ...report, result: 'dlq-again' });
        } else {
          out[index] = result;
          reports.set(coordinatesKey(report.dlq), { ...report, result: 'written' });
        }
      });
    }
    return out;
  };
}
