/**
 * The job's DLQ topics and DLQ events: partition counts (creating a missing DLQ topic when the job may
 * create topics) and the log lines and metrics of DLQ records; never a record value.
 */
import type { DlqEvents } from '../dlq/index.js';
import type { KafkaConnection } from '../kafka/connection.js';
import { describeTopic, ensureMirroredTopic } from '../kafka/topics.js';
import { RecryptError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { RuntimeMetrics } from './metrics.js';

/**
 * Partition count of a DLQ topic; created (mirroring the source's partitions and configs, but never
 * compacted: DLQ records have no key) when the job may create topics, else null when missing;
 * KAFKA_TOPIC when it exists compacted.
 */
export async function dlqPartitions(connection: KafkaConnection, topic: string, source: string, create: boolean): Promise<number | null> {
  const existing = await describeTopic(connection, topic);
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
  return (await ensureMirroredTopic(connection, source, topic, { create: true, extraConfigs: { 'cleanup.policy': 'delete' } })).partitions;
}

/** DLQ metrics and log lines: topics, partitions, offsets, codes and where the guard hit; never a value. */
export function dlqEvents(job: string, logger: Logger, metrics: RuntimeMetrics | undefined): DlqEvents {
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

export function withoutRouted(events: DlqEvents): DlqEvents {
  const { routed: _countedElsewhere, ...rest } = events;
  return rest;
}
