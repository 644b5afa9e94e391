/**
 * One batch through the exactly-once cycle, as an explicit transition function:
 *
 *   TRANSFORM -> REFUSE_OVERSIZED -> BEGIN -> PRODUCE -> SEND_OFFSETS -> COMMIT      => committed
 *       |                                   (any failure) -> ABORT -> refused record known?
 *       |                                        yes: halt it or divert it (DLQ), plan again, BEGIN
 *       |                                        no:  retry (narrow when refused at commit) => not committed
 *       |                                   (permanent, not about a record) -> halt the batch's partitions => committed (nothing)
 *       +-- transient error                                                                => not committed
 *
 * `run` returns what happened (the commit plan, or the error to back off on); the pipeline applies
 * it to the partitions' states (progress, done, halts, rewind and pause). A fenced producer and any
 * other permanent failure not tied to a record are thrown: they stop the pipeline.
 */
import { RecryptError, isTransient } from '../util/errors.js';
import { partitionKey, type OutputRecord, type ProcessedRecord, type RecordProcessor, type SourceRecord } from '../util/records.js';
import { classifyKafkaError } from './kafka-errors.js';
import type { TopicPartitionOffset } from './native.js';
import type { PipelineObserver } from './pipeline-types.js';
import { oversize, refusedRecord, type SizeLimits } from './record-size.js';
import { RefusedOutput, type TransactionTimings, type Transactions } from './transaction.js';

export interface CycleSettings {
  readonly processor: RecordProcessor;
  readonly onRefused?: (record: SourceRecord, error: RecryptError) => Promise<ProcessedRecord>;
  readonly observer?: Pick<PipelineObserver, 'onAbort'>;
  /**
   * Whether the consumer still owns a partition (by partitionKey). A rebalance callback can fire while
   * a fetch ahead is in flight: each commit attempt plans only owned partitions, and one that lost a
   * partition after planning aborts (its offsets are no longer this member's to commit).
   */
  readonly owns?: (key: string) => boolean;
  /** How many revokes the consumer has seen: one since the plan (even a partition given back) aborts the commit. */
  readonly revocations?: () => number;
}

export interface PartitionCounts {
  records: number;
  written: number;
  dlq: number;
}

export interface CommitPlan {
  readonly outputs: OutputRecord[];
  /** Per output, the batch index of its source record. */
  readonly sources: number[];
  /** Per partition (by partitionKey), the next offset to read once committed. */
  readonly nextOffsets: Map<string, TopicPartitionOffset>;
  readonly counts: Map<string, PartitionCounts>;
  readonly halts: Array<{ record: SourceRecord; error: RecryptError }>;
}

/** A batch's results from the processor, oversized outputs refused; `startedAt`: when its transform started. */
export interface Transformed {
  readonly results: ProcessedRecord[];
  readonly startedAt: number;
  readonly transformMs: number;
}

export type CycleOutcome =
  | {
    readonly committed: true; readonly plan: CommitPlan; readonly startedAt: number; readonly commitStartedAt: number;
    /** The transform's milliseconds, and each step of the transaction that committed (absent when none did: an abort's outcome). */
    readonly transformMs: number; readonly timings?: TransactionTimings;
    /** The batch's transform ran ahead, while the batch before it committed. */
    readonly transformedAhead: boolean;
  }
  /** Nothing committed: rewind and back off. `narrow`: refused at commit, record unknown; `outage`: the brokers may be gone. */
  | { readonly committed: false; readonly error: RecryptError; readonly narrow: boolean; readonly outage: boolean };

export class BatchCycle {
  constructor(private readonly settings: CycleSettings, private readonly transactions: Transactions, private readonly limits: SizeLimits) {}

  /**
   * The cycle's first steps, on their own: the processor's results for `batch` with oversized outputs
   * already refused. Throws what the processor throws. The pipeline may run it ahead, on the batch after
   * the one committing (next-batch.ts), and hand the result to `run`.
   */
  async transform(batch: readonly SourceRecord[]): Promise<Transformed> {
    const startedAt = Date.now();
    const results = [...await this.settings.processor(batch)];
    if (results.length < batch.length) throw new RecryptError('INTERNAL', 'processor returned fewer results than records');
    await this.refuseOversized(batch, results);
    return { results, startedAt, transformMs: Date.now() - startedAt };
  }

  /**
   * One batch: transform (unless `transformed` holds its results already: a transform run ahead), then
   * write and commit in one transaction. `whileCommitting` runs once the outputs and offsets are in the
   * transaction, before the commit (at most once, whatever the attempts).
   */
  async run(batch: readonly SourceRecord[], whileCommitting: () => void, transformed?: Transformed): Promise<CycleOutcome> {
    let done: Transformed;
    try {
      done = transformed ?? await this.transform(batch);
    } catch (err) {
      if (!isTransient(err)) throw err;
      return retry(err as RecryptError);
    }
    const { results, startedAt, transformMs } = done;
    const transformedAhead = transformed !== undefined;

    let fetchAhead: (() => void) | undefined = whileCommitting;
    const refused = new Set<number>();
    for (;;) {
      const { owns, revocations } = this.settings;
      const revokesAtPlan = revocations?.();
      const plan = planCommit(batch, results, owns);
      const commitStartedAt = Date.now();
      try {
        // The batch fetched ahead is fetched once, whatever the attempts.
        const timings = await this.transactions.commit(plan.outputs, plan.sources, [...plan.nextOffsets.values()], () => {
          if (revocations?.() !== revokesAtPlan && plan.nextOffsets.size > 0) {
            throw new RecryptError('KAFKA_TRANSACTION', 'partitions were revoked while the transaction was open: retried with the partitions still owned');
          }
          fetchAhead?.();
          fetchAhead = undefined;
        });
        return { committed: true, plan, startedAt, commitStartedAt, transformMs, timings, transformedAhead };
      } catch (err) {
        const e = err instanceof RefusedOutput ? err.error : classifyKafkaError('transaction', err);
        this.settings.observer?.onAbort?.(e);
        // Neither is about this batch, and no retry helps: the pipeline stops.
        if (e.code === 'KAFKA_FENCED' || e.code === 'KAFKA_AUTH') throw e;
        // A commit that timed out and was resumed by the abort may have gone through after all.
        if (await this.transactions.abort() === 'committed') return { committed: true, plan, startedAt, commitStartedAt, transformMs, transformedAhead };
        if (e.transient) return { committed: false, error: e, narrow: false, outage: e.code === 'KAFKA_UNAVAILABLE' };
        // Permanent and not about a record (a target topic not allowed or gone): every partition of
        // the batch halts at its first record, nothing committed, no record blamed or diverted.
        if (e.code !== 'RECORD_TOO_LARGE' && e.code !== 'KAFKA_PRODUCE') {
          return { committed: true, plan: planCommit(batch, batch.map(() => ({ halt: e })), owns), startedAt, commitStartedAt, transformMs, transformedAhead };
        }
        const index = err instanceof RefusedOutput ? err.index : soleWriter(plan);
        // Refused at commit, record unknown: replay these records one per transaction.
        if (index === undefined) return { committed: false, error: e, narrow: true, outage: false };
        // The refused record is known: it halts or goes to the DLQ; the rest commits without it.
        const record = batch[index]!;
        const result = results[index]!;
        const error = err instanceof RefusedOutput ? e : refusedRecord(record, 'outputs' in result ? result.outputs : [], e);
        try {
          results[index] = refused.has(index) ? { halt: error } : await this.refuse(record, error);
        } catch (divertError) {
          if (!isTransient(divertError)) throw divertError;
          return retry(divertError as RecryptError);
        }
        refused.add(index);
      }
    }
  }

  /** Replaces the result of every record whose output a size limit refuses (before anything is produced). */
  private async refuseOversized(batch: readonly SourceRecord[], results: ProcessedRecord[]): Promise<void> {
    const stopped = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const key = partitionKey(record.topic, record.partition);
      if (stopped.has(key)) continue;
      const result = results[i]!;
      if ('outputs' in result) {
        const error = oversize(record, result.outputs, this.limits);
        if (error) results[i] = await this.refuse(record, error);
      }
      if ('halt' in results[i]!) stopped.add(key);
    }
  }

  /** A refused record: the job's DLQ path when it has one (its record must fit too), else a halt. */
  private async refuse(record: SourceRecord, error: RecryptError): Promise<ProcessedRecord> {
    if (!this.settings.onRefused) return { halt: error };
    const diverted = await this.settings.onRefused(record, error);
    if ('outputs' in diverted && oversize(record, diverted.outputs, this.limits)) return { halt: error };
    return diverted;
  }
}

function retry(error: RecryptError): CycleOutcome {
  return { committed: false, error, narrow: false, outage: false };
}

/**
 * Per partition, the records up to (not including) the first halt: what one transaction writes and
 * commits. Partitions `owns` says are no longer the consumer's are left out.
 */
export function planCommit(batch: readonly SourceRecord[], results: readonly ProcessedRecord[], owns?: (key: string) => boolean): CommitPlan {
  const plan: CommitPlan = { outputs: [], sources: [], nextOffsets: new Map(), counts: new Map(), halts: [] };
  // Partitions left out: halted in this batch, or not owned (asked once per partition).
  const haltedNow = new Set<string>();
  const checked = new Set<string>();
  batch.forEach((record, i) => {
    const key = partitionKey(record.topic, record.partition);
    if (haltedNow.has(key)) return;
    if (owns && !checked.has(key)) {
      checked.add(key);
      if (!owns(key)) {
        haltedNow.add(key);
        return;
      }
    }
    const result = results[i]!;
    if ('halt' in result) {
      haltedNow.add(key);
      plan.halts.push({ record, error: result.halt });
      return;
    }
    for (const out of result.outputs) {
      plan.outputs.push(out);
      plan.sources.push(i);
    }
    plan.nextOffsets.set(key, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
    const c = plan.counts.get(key) ?? { records: 0, written: 0, dlq: 0 };
    c.records += 1;
    if (result.dlq) c.dlq += 1; else if (result.outputs.length) c.written += 1;
    plan.counts.set(key, c);
  });
  return plan;
}

/** The batch index of the only record with outputs in the plan, if exactly one has any. */
function soleWriter(plan: CommitPlan): number | undefined {
  const writers = new Set(plan.sources);
  return writers.size === 1 ? plan.sources[0] : undefined;
}

/** Per partition (by partitionKey), the last record's offset among `records`. */
export function lastOffsets(records: readonly SourceRecord[]): Map<string, number> {
  const lasts = new Map<string, number>();
  for (const r of records) lasts.set(partitionKey(r.topic, r.partition), r.offset);
  return lasts;
}

/** Per partition (by partitionKey), the first record's position among `records`. */
export function firstOffsets(records: readonly SourceRecord[]): Map<string, TopicPartitionOffset> {
  const firsts = new Map<string, TopicPartitionOffset>();
  for (const r of records) {
    const key = partitionKey(r.topic, r.partition);
    if (!firsts.has(key)) firsts.set(key, { topic: r.topic, partition: r.partition, offset: r.offset });
  }
  return firsts;
}
