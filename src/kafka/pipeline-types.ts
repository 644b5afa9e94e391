/** The pipeline's options, observer and summary (what service/, cli/ and backfill/ see of it). */
import type { RecryptError } from '../util/errors.js';
import type { ProcessedRecord, RecordProcessor, SourceRecord, TopicPartition } from '../util/records.js';
import type { KafkaClients } from './client-factory.js';
import type { KafkaConnection } from './connection.js';
import type { PartitionProgress } from './partition-state.js';
import type { TransactionTimings } from './transaction.js';

export type StartAt = 'earliest' | 'latest' | 'committed';

export interface PipelineOptions {
  readonly name: string;
  readonly connection: KafkaConnection;
  /** Where the consumer and producer come from (default: real clients on `connection`); tests pass fakes. */
  readonly clients?: KafkaClients;
  readonly groupId: string;
  readonly transactionalId: string;
  /** Topics to subscribe to (group mode) or to assign whole (bounded mode). */
  readonly topics?: readonly string[];
  readonly topicPattern?: RegExp;
  /**
   * Explicit partitions and offset ranges (backfill tasks, stopAt end). When given, the pipeline assigns
   * them itself instead of subscribing, and finishes when every range is done.
   */
  readonly ranges?: readonly PartitionRange[];
  /** Group mode: finish once every assigned partition reaches the end offsets seen at start. */
  readonly startAt: StartAt;
  readonly processor: RecordProcessor;
  /**
   * Transform the next batch while the current one commits (default false). Its results are used only
   * if the current batch commits and the next is then taken exactly as transformed (no halt, revoke,
   * range end or narrowing in between); otherwise the records are transformed again or read again.
   * Needs a processor whose only effects outside its results may repeat (metrics, logs, keys created
   * in the registry): anything it wrote to Kafka itself would escape the transaction. recrypt's engine
   * qualifies (DLQ records are results, produced in the transaction). It can pay only when the transform
   * leaves the JavaScript thread and a core idle: `recrypt run` with the engine sharing each batch
   * between the main thread and its threads measured 18% slower with it, p99 batch 261 ms against 76
   * (2-core machine, issue #24), so no job turns it on yet.
   */
  readonly overlapTransform?: boolean;
  readonly batchSize?: number;
  /** Streaming only: how long a partial batch is topped up before it is committed (0: take what is there). */
  readonly commitIntervalMs?: number;
  readonly transactionTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly observer?: PipelineObserver;
  /** Extra librdkafka settings for consumer and producer (tuning). */
  readonly consumerConfig?: Readonly<Record<string, string | number | boolean>>;
  readonly producerConfig?: Readonly<Record<string, string | number | boolean>>;
  /** Target topics' max.message.bytes (fetched at start): records over it are refused before producing. */
  readonly topicMaxBytes?: ReadonlyMap<string, number>;
  /**
   * What becomes of a source record whose output is refused for good (RECORD_TOO_LARGE, KAFKA_PRODUCE):
   * by default its partition halts; a job with a DLQ returns the reference DLQ record here. A transient
   * throw retries the batch.
   */
  readonly onRefused?: (record: SourceRecord, error: RecryptError) => Promise<ProcessedRecord>;
}

export interface PartitionRange extends TopicPartition {
  /** First offset to read when the group has no committed offset (default: the partition start). */
  readonly from?: number;
  /** Exclusive end offset: the partition is done once the next offset to read reaches it. */
  readonly to: number;
}


export interface BatchCommitted {
  readonly records: number;
  readonly written: number;
  readonly dlq: number;
  readonly latencyMs: number;
  readonly commitMs: number;
  readonly transformMs: number;
  /** Transformed while the batch before it committed (overlapTransform). */
  readonly transformedAhead: boolean;
  readonly transaction?: TransactionTimings;
}

export interface PipelineObserver {
  /**
   * `latencyMs`: from the start of the batch's transform to its commit; `commitMs`: of those, the
   * transaction's (begin to commit, refusals and retries included); `transformMs`: the processor's and
   * the size checks'; `transaction`: each step of the transaction that committed (absent when none did).
   */
  onBatchCommitted?(info: BatchCommitted): void;
  onHalt?(partition: TopicPartition, offset: number, error: RecryptError): void;
  /** `partitions`: the partitions paused for `retryInMs` (absent for start-up retries). */
  onTransientError?(error: RecryptError, retryInMs: number, partitions?: readonly TopicPartition[]): void;
  /** Once per outage: every broker unreachable (and a probe confirmed it). */
  onConnectionLost?(error: RecryptError): void;
  /** Once per outage: the brokers answer again. */
  onConnectionRestored?(info: { downMs: number }): void;
  onAbort?(error: RecryptError): void;
  onAssigned?(partitions: readonly TopicPartition[]): void;
  onRevoked?(partitions: readonly TopicPartition[]): void;
}

export interface PipelineSummary {
  readonly partitions: readonly PartitionProgress[];
  readonly records: number;
  readonly written: number;
  readonly dlq: number;
  readonly durationMs: number;
  readonly halted: boolean;
}
