/**
 * The few Kafka calls the coordinator makes outside a pipeline: a group's committed offsets (the
 * checkpoints), the cut-over commit, and counting data records in offset ranges for the verification.
 */
import { kafkaClients } from '../kafka/client-factory.js';
import type { KafkaConnection } from '../kafka/connection.js';
import { classifyKafkaError } from '../kafka/kafka-errors.js';
import { committedOffsets, connect, consumeBatch, disconnect, type NativeConsumer, type TopicPartitionOffset } from '../kafka/native.js';
import { partitionKey, type TopicPartition } from '../kafka/types.js';

function consumerFor(connection: KafkaConnection, groupId: string, extra: Record<string, string | number | boolean> = {}): NativeConsumer {
  return kafkaClients(connection).consumer('recrypt-backfill', {
    'group.id': groupId,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'isolation.level': 'read_committed',
    ...extra,
  }, { 'auto.offset.reset': 'earliest' });
}

async function withConsumer<T>(connection: KafkaConnection, groupId: string, body: (c: NativeConsumer) => Promise<T>, extra?: Record<string, string | number | boolean>): Promise<T> {
  const consumer = consumerFor(connection, groupId, extra);
  await connect(consumer, 'connect consumer');
  try {
    return await body(consumer);
  } finally {
    await disconnect(consumer);
  }
}

/** Committed offsets of `groupId` (stable: pending transactional commits are waited for); -1001 when none. */
export function groupOffsets(connection: KafkaConnection, groupId: string, partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
  if (partitions.length === 0) return Promise.resolve([]);
  return withConsumer(connection, groupId, (c) => committedOffsets(c, partitions.map(({ topic, partition }) => ({ topic, partition }))));
}

/**
 * Commits `offsets` for `groupId` without joining it. Used once, at the cut-over, before any member of
 * the streaming group exists; a group with live members refuses a commit from a non-member.
 */
export function commitGroupOffsets(connection: KafkaConnection, groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
  if (offsets.length === 0) return Promise.resolve();
  return withConsumer(connection, groupId, async (c) => {
    try {
      c.commitSync(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    } catch (err) {
      throw classifyKafkaError('commit offsets', err);
    }
  });
}

export interface CountRange extends TopicPartition {
  readonly from: number;
  readonly to: number;
}

/**
 * Counts the data records with offsets in [from, to) of each range, read_committed: records of aborted
 * transactions and transaction markers do not count. Reads until every range saw an offset (or EOF)
 * at or past its end.
 */
export async function countRecords(connection: KafkaConnection, ranges: readonly CountRange[], timeoutMs = 300_000): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const pending = new Map<string, CountRange>();
  for (const r of ranges) {
    counts.set(partitionKey(r.topic, r.partition), 0);
    if (r.to > r.from) pending.set(partitionKey(r.topic, r.partition), r);
  }
  if (pending.size === 0) return counts;
  const groupId = `recrypt-verify-${process.pid}-${Date.now()}`;
  await withConsumer(connection, groupId, async (consumer) => {
    const finish = (key: string) => {
      const r = pending.get(key);
      if (!r) return;
      pending.delete(key);
      consumer.pause([{ topic: r.topic, partition: r.partition }]);
    };
    // EOF events of a consume call can arrive before its records are handed over: act on them after.
    const eofAt = new Map<string, number>();
    consumer.on('partition.eof', (eof) => {
      const key = partitionKey(eof.topic, eof.partition);
      eofAt.set(key, Math.max(eof.offset, eofAt.get(key) ?? -1));
    });
    consumer.setDefaultConsumeTimeout(200);
    consumer.assign([...pending.values()].map((r) => ({ topic: r.topic, partition: r.partition, offset: r.from })));
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0) {
      if (Date.now() > deadline) throw classifyKafkaError('count records', new Error(`timed out with ${pending.size} ranges unread`));
      for (const record of await consumeBatch(consumer, 10_000)) {
        const key = partitionKey(record.topic, record.partition);
        const r = pending.get(key);
        if (!r) continue;
        if (record.offset >= r.to) { finish(key); continue; }
        if (record.offset >= r.from) counts.set(key, (counts.get(key) ?? 0) + 1);
        if (record.offset === r.to - 1) finish(key);
      }
      for (const [key, offset] of eofAt) if (offset >= (pending.get(key)?.to ?? Infinity)) finish(key);
      eofAt.clear();
    }
  }, { 'enable.partition.eof': true, 'fetch.max.bytes': 52_428_800 });
  return counts;
}
