/**
 * The log lines of a running pipeline, shared by `recrypt run` and `recrypt serve`: halts, transient
 * retries, assignments and commits. Codes, topics, partitions and offsets only; never a value.
 */
import type { PipelineObserver } from '../kafka/pipeline.js';
import type { Logger } from '../util/logger.js';

/** A PipelineObserver that logs; `extra` observers run after the log line (metrics, state). */
export function loggingObserver(logger: Logger, extra: PipelineObserver = {}): PipelineObserver {
  return {
    ...extra,
    onHalt: (tp, offset, error) => {
      logger.error('partition halted', { topic: tp.topic, partition: tp.partition, offset, error });
      extra.onHalt?.(tp, offset, error);
    },
    onTransientError: (error, retryInMs, partitions) => {
      logger.warn('transient failure, retrying', {
        error, retryInMs, ...(partitions?.length ? { partitions: partitions.map((tp) => `${tp.topic}/${tp.partition}`).join(',') } : {}),
      });
      extra.onTransientError?.(error, retryInMs, partitions);
    },
    // One line per outage and one when it ends: the loop retries quietly in between.
    onConnectionLost: (error) => {
      logger.error('Kafka connection lost: no broker answers; retrying until they do', { error });
      extra.onConnectionLost?.(error);
    },
    onConnectionRestored: (info) => {
      logger.info('Kafka connection back', { downMs: info.downMs });
      extra.onConnectionRestored?.(info);
    },
    onAssigned: (tps) => {
      logger.info('partitions assigned', { partitions: tps.map((tp) => `${tp.topic}/${tp.partition}`).join(',') });
      extra.onAssigned?.(tps);
    },
    onRevoked: (tps) => {
      logger.info('partitions revoked', { partitions: tps.map((tp) => `${tp.topic}/${tp.partition}`).join(',') });
      extra.onRevoked?.(tps);
    },
    onBatchCommitted: (info) => {
      const t = info.transaction;
      // Where a batch's time goes: the engine (transformMs) and each step of the transaction.
      logger.debug('batch committed', {
        records: info.records, written: info.written, dlq: info.dlq, latencyMs: info.latencyMs, transformMs: info.transformMs, commitMs: info.commitMs,
        ...(t ? { beginMs: t.beginMs, produceMs: t.produceMs, sendOffsetsMs: t.sendOffsetsMs, txnCommitMs: t.commitMs } : {}),
      });
      extra.onBatchCommitted?.(info);
    },
  };
}
