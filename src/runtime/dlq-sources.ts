/**
 * Reading for `recrypt dlq replay`: the source records that DLQ records point at (by topic, partition
 * and offset, read_committed), and ranges of a DLQ topic (the dry run). Clients come from the Kafka
 * client factory through audit/'s topic reader; nothing here commits offsets.
 */
import { TopicReader } from '../audit/topic-reader.js';
import type { Coordinates, SourceLookup } from '../dlq/index.js';
import type { KafkaConnection } from '../kafka/connection.js';
import { describeTopic, snapshotOffsets } from '../kafka/topics.js';
import { RecryptError } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';

/** Offsets of one partition further apart than this are read separately rather than as one span. */
const MAX_GAP = 5_000;

export function coordinatesKey(c: Coordinates): string {
  return `${c.topic}\u0000${c.partition}\u0000${c.offset}`;
}

/**
 * What is at each of `wanted` in its source topic: the record, or gone (below the low watermark,
 * compacted away, past the end, or the partition does not exist). Transient errors propagate.
 */
export async function lookUpSources(connection: KafkaConnection, wanted: readonly Coordinates[]): Promise<Map<string, SourceLookup>> {
  const out = new Map<string, SourceLookup>();
  const byPartition = new Map<string, { topic: string; partition: number; offsets: Set<number> }>();
  for (const c of wanted) {
    const key = `${c.topic}\u0000${c.partition}`;
    const group = byPartition.get(key) ?? { topic: c.topic, partition: c.partition, offsets: new Set<number>() };
    group.offsets.add(c.offset);
    byPartition.set(key, group);
  }
  for (const { topic, partition, offsets } of byPartition.values()) {
    const found = await readOffsets(connection, topic, partition, [...offsets].sort((a, b) => a - b));
    for (const offset of offsets) {
      const record = found.get(offset);
      out.set(coordinatesKey({ topic, partition, offset }), record ? { kind: 'found', record } : { kind: 'gone' });
    }
  }
  return out;
}

async function readOffsets(connection: KafkaConnection, topic: string, partition: number, sorted: readonly number[]): Promise<Map<number, SourceRecord>> {
  const found = new Map<number, SourceRecord>();
  let bounds: { low: number; high: number };
  try {
    bounds = await partitionBounds(connection, topic, partition);
  } catch (err) {
    // A missing topic or partition holds none of the records; anything transient is retried by the caller.
    if (err instanceof RecryptError && err.code === 'KAFKA_TOPIC') return found;
    throw err;
  }
  const inside = sorted.filter((o) => o >= bounds.low && o < bounds.high);
  for (const span of spans(inside)) {
    const wanted = new Set(span);
    const reader = new TopicReader({ connection, topic, partitions: [partition], batchSize: 500 });
    try {
      await reader.open();
      await reader.read([{ partition, from: span[0]!, to: span[span.length - 1]! + 1 }], (records) => {
        for (const r of records) if (wanted.has(r.offset)) found.set(r.offset, r);
      });
    } finally {
      await reader.close();
    }
  }
  return found;
}

/** Sorted offsets cut where two neighbours are more than MAX_GAP apart. */
function spans(sorted: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const o of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && o - last[last.length - 1]! <= MAX_GAP) last.push(o);
    else out.push([o]);
  }
  return out;
}

/** Low and end watermarks of one partition; KAFKA_TOPIC when it does not exist. */
export async function partitionBounds(connection: KafkaConnection, topic: string, partition: number): Promise<{ low: number; high: number }> {
  if ((await describeTopic(connection, topic)) === null) throw new RecryptError('KAFKA_TOPIC', `topic ${topic} does not exist`);
  const marks = (await snapshotOffsets(connection, [topic])).find((m) => m.partition === partition);
  if (marks === undefined) throw new RecryptError('KAFKA_TOPIC', `topic ${topic} has no partition ${partition}`);
  return { low: marks.low, high: marks.high };
}

/** Reads `[from, to)` of each partition of a DLQ topic, calling `onBatch` in partition order. */
export async function readDlqRanges(
  connection: KafkaConnection, topic: string, ranges: readonly { partition: number; from: number; to: number }[], onBatch: (records: SourceRecord[]) => Promise<void>,
): Promise<void> {
  if (ranges.every((r) => r.from >= r.to)) return;
  const reader = new TopicReader({ connection, topic, batchSize: 500 });
  try {
    await reader.open();
    await reader.read(ranges, onBatch);
  } finally {
    await reader.close();
  }
}
