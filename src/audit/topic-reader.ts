/**
 * Reads fixed offset ranges of a topic without a consumer group's commits: assign() at explicit
 * offsets, read_committed, in batches, until every partition reaches its end offset (exclusive) as
 * seen at the start. Offsets between the last record and the end can be transaction markers, which
 * carry no record: a partition is also done once the consumer reports EOF at or past its end.
 */
import { randomBytes } from 'node:crypto';
import { kafkaClients } from '../kafka/client-factory.js';
import type { KafkaConnection } from '../kafka/connection.js';
import { connect, consumeBatch, disconnect, type NativeConsumer } from '../kafka/native.js';
import { snapshotOffsets } from '../kafka/topics.js';
import { RecryptError } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';

export type OffsetSpec =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'end' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'timestamp'; readonly ms: number };

export interface ReadRange {
  readonly partition: number;
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
}

/** `earliest`, `end`, an offset, or an ISO-8601 timestamp (e.g. 2024-05-01T00:00:00Z). */
export function parseOffsetSpec(text: string): OffsetSpec | undefined {
  if (text === 'earliest' || text === 'beginning') return { kind: 'earliest' };
  if (text === 'end' || text === 'latest') return { kind: 'end' };
  if (/^[0-9]+$/.test(text)) {
    const offset = Number(text);
    return Number.isSafeInteger(offset) ? { kind: 'offset', offset } : undefined;
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) {
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? { kind: 'timestamp', ms } : undefined;
  }
  return undefined;
}

export interface TopicReaderOptions {
  readonly connection: KafkaConnection;
  readonly topic: string;
  /** Only these partitions (default: all). */
  readonly partitions?: readonly number[];
  readonly batchSize?: number;
  readonly consumerConfig?: Readonly<Record<string, string | number | boolean>>;
}

export class TopicReader {
  readonly #options: TopicReaderOptions;
  #consumer?: NativeConsumer;
  readonly #eofAt = new Map<number, number>();

  constructor(options: TopicReaderOptions) {
    this.#options = options;
  }

  async open(): Promise<void> {
    const consumer = kafkaClients(this.#options.connection).consumer('recrypt-audit', {
      // librdkafka wants a group id even for assign(); nothing is ever committed to it.
      'group.id': `recrypt-audit-${randomBytes(6).toString('hex')}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'fetch.max.bytes': 52_428_800,
      // Prefetch deep: the audit loop is faster than one fetch round trip per batch.
      'queued.max.messages.kbytes': 65_536,
      'queued.min.messages': 500_000,
      ...this.#options.consumerConfig,
    }, { 'auto.offset.reset': 'earliest' });
    consumer.setDefaultConsumeTimeout(200);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.on('partition.eof', (eof) => {
      this.#eofAt.set(eof.partition, Math.max(eof.offset, this.#eofAt.get(eof.partition) ?? -1));
    });
    this.#consumer = consumer;
    await connect(consumer, 'connect audit consumer');
  }

  /** Offsets at the start of the read: low and end (read_committed) watermarks, then from/to applied. */
  async resolve(from: OffsetSpec, to: OffsetSpec): Promise<ReadRange[]> {
    const { topic, connection, partitions } = this.#options;
    const marks = (await snapshotOffsets(connection, [topic])).filter((m) => partitions === undefined || partitions.includes(m.partition));
    if (marks.length === 0) throw new RecryptError('KAFKA_TOPIC', `topic ${topic} does not exist or has none of the requested partitions`);
    const fromTimes = from.kind === 'timestamp' ? await this.#offsetsForTime(marks.map((m) => m.partition), from.ms) : undefined;
    const toTimes = to.kind === 'timestamp' ? await this.#offsetsForTime(marks.map((m) => m.partition), to.ms) : undefined;
    return marks.map((m) => {
      const clamp = (o: number) => Math.min(Math.max(o, m.low), m.high);
      const start = from.kind === 'earliest' ? m.low
        : from.kind === 'end' ? m.high
        : from.kind === 'offset' ? clamp(from.offset)
        : clamp(atTime(fromTimes!.get(m.partition), m.high));
      const end = to.kind === 'end' ? m.high
        : to.kind === 'earliest' ? m.low
        : to.kind === 'offset' ? clamp(to.offset)
        : clamp(atTime(toTimes!.get(m.partition), m.high));
      return { partition: m.partition, from: start, to: Math.max(start, end) };
    });
  }

  /**
   * Reads the ranges; `onBatch` gets the records of each poll in partition order. Returns when every
   * range is done.
   */
  async read(ranges: readonly ReadRange[], onBatch: (records: SourceRecord[]) => Promise<void> | void, shouldStop: () => boolean = () => false): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) throw new RecryptError('INTERNAL', 'TopicReader.read before open');
    const { topic } = this.#options;
    const next = new Map<number, number>();
    const ends = new Map<number, number>();
    const active = new Set<number>();
    const assignment = [];
    for (const r of ranges) {
      if (r.from >= r.to) continue;
      next.set(r.partition, r.from);
      ends.set(r.partition, r.to);
      active.add(r.partition);
      assignment.push({ topic, partition: r.partition, offset: r.from });
    }
    if (assignment.length === 0) return;
    consumer.assign(assignment);
    const finish = (partition: number) => {
      active.delete(partition);
      consumer.pause([{ topic, partition }]);
    };
    const batchSize = this.#options.batchSize ?? 5000;
    while (active.size > 0 && !shouldStop()) {
      const polled = await consumeBatch(consumer, batchSize).catch((err: unknown) => {
        if (err instanceof RecryptError && err.transient) return [] as SourceRecord[];
        throw err;
      });
      const accepted: SourceRecord[] = [];
      for (const record of polled) {
        const p = record.partition;
        if (!active.has(p)) continue;
        const end = ends.get(p)!;
        if (record.offset >= end) {
          finish(p);
          continue;
        }
        if (record.offset < next.get(p)!) continue;
        next.set(p, record.offset + 1);
        accepted.push(record);
        if (record.offset + 1 >= end) finish(p);
      }
      if (accepted.length > 0) await onBatch(accepted);
      for (const [p, at] of this.#eofAt) {
        if (active.has(p) && at >= ends.get(p)!) finish(p);
      }
      this.#eofAt.clear();
    }
  }

  async close(): Promise<void> {
    if (this.#consumer !== undefined) await disconnect(this.#consumer);
  }

  #offsetsForTime(partitions: readonly number[], ms: number): Promise<Map<number, number>> {
    const consumer = this.#consumer;
    if (consumer === undefined) throw new RecryptError('INTERNAL', 'TopicReader.resolve before open');
    const { topic } = this.#options;
    return new Promise((resolve, reject) => {
      consumer.offsetsForTimes(partitions.map((partition) => ({ topic, partition, offset: ms })), 30_000, (err, offsets) => {
        if (err) {
          reject(new RecryptError('KAFKA_UNAVAILABLE', `offsets for a timestamp of ${topic} could not be fetched`, { cause: err }));
          return;
        }
        resolve(new Map(offsets.map((o) => [o.partition, o.offset])));
      });
    });
  }
}

/** offsetsForTimes answers -1 (end) when no record is at or after the time. */
function atTime(offset: number | undefined, high: number): number {
  return offset === undefined || offset < 0 ? high : offset;
}
