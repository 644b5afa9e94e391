/**
 * The part of `recrypt dlq replay` that decides, shared by the replay and its dry run: the replay's
 * progress (its group's offsets, jobs/kafka-names.ts), the DLQ topics of a job, and the decision for each DLQ record
 * of a batch (dlq/'s header parsing and rules, with the source records looked up in their topics).
 * The dry run (dryRunReplay) reads what the replay would read, from the replay group's committed
 * offsets to the end offsets seen at its start, and writes nothing.
 */
import { groupOffsets } from '../backfill/index.js';
import {
  DEFAULT_MAX_REPLAY_ATTEMPTS, decideReplay, isUnreadable, parseDlqRecord, refuseBeforeLookup, sourceFromPayload,
  type Coordinates, type DlqEntry, type ReplayContext, type ReplayDecision, type SourceLookup,
} from '../dlq/index.js';
import { dlqReplayGroupId, dlqTopicFor, type Job } from '../jobs/index.js';
import { snapshotOffsets, describeTopic } from '../kafka/topics.js';
import { RecryptError } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';
import { coordinatesKey, lookUpSources, readDlqRanges } from './dlq-sources.js';
import type { JobRuntime } from './job-runtime.js';

/** What the replay decided (and, for a real replay, did) about one DLQ record. Never a value. */
export interface ReplayReport {
  readonly dlq: Coordinates;
  /** Absent when the headers do not locate a source record. */
  readonly source?: Coordinates;
  readonly part?: 'key' | 'value';
  readonly policy?: string;
  readonly exception?: string;
  readonly rule?: string;
  readonly attempts?: number;
  readonly decision: ReplayDecision;
  /** A real replay: what came of a replayed record (written to the target, back into the DLQ, or halted with a code). */
  readonly result?: 'written' | 'dlq-again' | `halted ${string}`;
}

export interface ReplayScope {
  readonly dlqTopics: readonly string[];
  readonly context: ReplayContext;
}

/** The DLQ topics to replay (the job-level ones of its sources, or `topics`) and the decision context. */
export async function replayScope(runtime: JobRuntime, topics: readonly string[] | undefined, maxAttempts = DEFAULT_MAX_REPLAY_ATTEMPTS): Promise<ReplayScope> {
  const { job } = runtime;
  const sources = await runtime.sourceTopics();
  const dlqTopics = topics?.length ? [...new Set(topics)] : [...new Set(sources.flatMap((s) => dlqTopicFor(job, s) ?? []))];
  if (dlqTopics.length === 0) {
    throw new RecryptError('JOB_INVALID', `job ${job.metadata.name} has no dlq.topic: name the DLQ topic to replay with --topic`);
  }
  const appendTimeTopics = new Set<string>();
  for (const topic of dlqTopics) {
    const described = await describeTopic(runtime.config.kafka, topic);
    if (described === null) throw new RecryptError('KAFKA_TOPIC', `DLQ topic ${topic} does not exist`);
    if (described.configs['message.timestamp.type'] === 'LogAppendTime') appendTimeTopics.add(topic);
  }
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RecryptError('JOB_INVALID', 'the replay attempt limit must be a whole number of at least 1');
  return { dlqTopics, context: { sourceTopics: new Set(sources), keyed: isKeyed(job), maxAttempts, appendTimeTopics } };
}

/** The job transforms keys or places records by them: a record without its key cannot be replayed. */
export function isKeyed(job: Job): boolean {
  return job.spec.keys === 'rules' || job.spec.target.partition === 'keyHash';
}

export interface Decided {
  readonly report: ReplayReport;
  /** The record to run through the job, when the decision is to replay. */
  readonly replay?: { readonly entry: DlqEntry; readonly record: SourceRecord };
}

/** Decides each DLQ record of a batch, looking up in their topics the source records of those that may be replayed. */
export async function decideBatch(runtime: JobRuntime, batch: readonly SourceRecord[], context: ReplayContext): Promise<Decided[]> {
  const entries = batch.map(parseDlqRecord);
  const wanted = entries.flatMap((e) => (isUnreadable(e) || refuseBeforeLookup(e, context) ? [] : [e.source]));
  const lookups = wanted.length ? await lookUpSources(runtime.config.kafka, wanted) : new Map<string, SourceLookup>();
  return entries.map((entry, i): Decided => {
    if (isUnreadable(entry)) return { report: { dlq: entry.dlq, decision: { replay: false, why: entry.problem } } };
    const lookup = lookups.get(coordinatesKey(entry.source)) ?? { kind: 'gone' };
    const decision = decideReplay(entry, lookup, context);
    const report: ReplayReport = {
      dlq: entry.dlq, source: entry.source, part: entry.part, policy: entry.policy, attempts: entry.attempts, decision,
      ...(entry.exception !== undefined ? { exception: entry.exception } : {}),
      ...(entry.rule ? { rule: entry.rule.name } : {}),
    };
    if (!decision.replay) return { report };
    const record = decision.from === 'source-record' && lookup.kind === 'found' ? lookup.record : sourceFromPayload(entry, batch[i]!);
    return { report, replay: { entry, record } };
  });
}

/** Where the replay starts in each DLQ partition (the group's committed offset, else the start) and where it ends. */
export async function replayRanges(runtime: JobRuntime, dlqTopics: readonly string[]): Promise<{ topic: string; partition: number; from: number; to: number }[]> {
  const marks = await snapshotOffsets(runtime.config.kafka, dlqTopics);
  const committed = await groupOffsets(runtime.config.kafka, dlqReplayGroupId(runtime.name), marks.map(({ topic, partition }) => ({ topic, partition })));
  return marks.map((m) => {
    const stored = committed.find((c) => c.topic === m.topic && c.partition === m.partition)?.offset ?? -1;
    const from = stored >= 0 ? Math.max(stored, m.low) : m.low;
    return { topic: m.topic, partition: m.partition, from, to: m.high };
  });
}

/** The dry run: the decision for every DLQ record the replay would read, written nowhere. */
export async function dryRunReplay(runtime: JobRuntime, options: { topics?: readonly string[]; maxAttempts?: number; onRecord?: (r: ReplayReport) => void } = {}): Promise<ReplayReport[]> {
  const { dlqTopics, context } = await replayScope(runtime, options.topics, options.maxAttempts);
  const ranges = await replayRanges(runtime, dlqTopics);
  const reports: ReplayReport[] = [];
  for (const topic of dlqTopics) {
    await readDlqRanges(runtime.config.kafka, topic, ranges.filter((r) => r.topic === topic), async (records) => {
      for (const decided of await decideBatch(runtime, records, context)) {
        reports.push(decided.report);
        options.onRecord?.(decided.report);
      }
    });
  }
  return reports;
}
