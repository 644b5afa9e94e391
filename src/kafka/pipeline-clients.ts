/**
 * The librdkafka settings of a pipeline's two clients: a read_committed consumer that commits nothing
 * itself (offsets go in the transaction), and an idempotent transactional producer whose batches stay
 * within the target topics' size limits. Pure: the pipeline creates the clients from these.
 */
import type { ClientConfig } from './client-factory.js';
import { baseClientConfig } from './connection.js';
import type { PipelineOptions } from './pipeline-types.js';
import { BATCH_OVERHEAD, producerMaxBytes, type SizeLimits } from './record-size.js';

/** librdkafka's retry.backoff.ms for the producer, unless the connection or the job sets one. */
export const TRANSACTION_RETRY_BACKOFF_MS = 10;

/** The consumer's settings and default topic settings; `onRebalance` is set in group mode only. */
export function consumerSettings(options: PipelineOptions, onRebalance?: ClientConfig[string]): { config: ClientConfig; topicConfig: ClientConfig } {
  return {
    config: {
      'group.id': options.groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'partition.assignment.strategy': 'cooperative-sticky',
      // Bound prefetch memory per partition queue (RSS target of the service).
      'queued.max.messages.kbytes': 16_384,
      ...(onRebalance ? { rebalance_cb: onRebalance } : {}),
      ...options.consumerConfig,
    },
    topicConfig: { 'auto.offset.reset': options.startAt === 'latest' ? 'latest' : 'earliest' },
  };
}

/** The producer's settings, and the size limits its outputs are checked against before producing. */
export function producerSettings(options: PipelineOptions, clientId: string, txTimeoutMs: number): { config: ClientConfig; limits: SizeLimits } {
  const config: Record<string, ClientConfig[string]> = {
    'transactional.id': options.transactionalId,
    'enable.idempotence': true,
    'transaction.timeout.ms': txTimeoutMs,
    'linger.ms': 5,
    'batch.num.messages': 10_000,
    'queue.buffering.max.messages': 500_000,
    'queue.buffering.max.kbytes': 262_144,
    'compression.type': 'lz4',
    ...options.producerConfig,
  };
  // The settings in force: the connection's (KAFKA_PROP_*) under the pipeline's.
  const effective = { ...baseClientConfig(options.connection, clientId), ...options.producerConfig };
  // The first AddOffsetsToTxn of a transaction that starts while the broker still writes the last
  // one's markers is answered CONCURRENT_TRANSACTIONS, and librdkafka retries it after this backoff
  // (AddPartitionsToTxn has its own 20 ms). At the default 100 ms, 2-20% of the batches waited
  // 100 ms in sendOffsetsToTransaction, p99 batch latency 100-125 ms (measured, issue #24); the
  // backoff still doubles per retry up to retry.backoff.max.ms (1 s) when a broker stays away.
  if (effective['retry.backoff.ms'] === undefined) config['retry.backoff.ms'] = TRANSACTION_RETRY_BACKOFF_MS;
  const topicMaxBytes = options.topicMaxBytes ?? new Map<string, number>();
  // A batch of small records over a target topic's limit would be refused whole, with no record to
  // blame: keep librdkafka's batches (uncompressed, so compressed too) within the smallest limit.
  const smallest = Math.min(...topicMaxBytes.values());
  if (Number.isFinite(smallest) && effective['batch.size'] === undefined) {
    config['batch.size'] = Math.max(1024, Math.min(1_000_000, smallest - BATCH_OVERHEAD));
  }
  return { config, limits: { producerMaxBytes: producerMaxBytes(effective), topicMaxBytes } };
}
