/**
 * Promise wrappers over the callback API of @confluentinc/kafka-javascript's librdkafka bindings, and
 * conversions between its message shapes and recrypt's records. Errors come out classified.
 */
import kafka from '@confluentinc/kafka-javascript';
import type { Message as NativeMessage, MessageHeader } from '@confluentinc/kafka-javascript';
import { classifyKafkaError } from './kafka-errors.js';
import type { OutputRecord, RecordHeader, SourceRecord, TopicPartition } from './types.js';

/** The consumer, with methods the bindings implement but their typings omit. */
export type NativeConsumer = InstanceType<typeof kafka.KafkaConsumer> & {
  incrementalAssign(partitions: TopicPartition[]): void;
  incrementalUnassign(partitions: TopicPartition[]): void;
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
};
export type NativeProducer = InstanceType<typeof kafka.Producer>;
type NativeHeaders = MessageHeader[];

export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

function settle<T>(operation: string, run: (cb: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      run((err, value) => (err ? reject(classifyKafkaError(operation, err)) : resolve(value as T)));
    } catch (err) {
      reject(classifyKafkaError(operation, err));
    }
  });
}

export function connect(client: NativeConsumer | NativeProducer, operation: string): Promise<void> {
  return settle(operation, (cb) => client.connect({ timeout: 30_000 }, (err) => cb(err)));
}

export function disconnect(client: NativeConsumer | NativeProducer): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) { resolve(); return; }
    client.disconnect(() => resolve());
  });
}

export function consumeBatch(consumer: NativeConsumer, max: number): Promise<SourceRecord[]> {
  return settle('consume', (cb) => consumer.consume(max, (err, messages) => cb(err, err ? undefined : messages.map(toSourceRecord))));
}

export function toSourceRecord(message: NativeMessage): SourceRecord {
  const headers: RecordHeader[] = [];
  for (const header of (message.headers ?? []) as NativeHeaders) {
    for (const [key, value] of Object.entries(header)) headers.push({ key, value: Buffer.isBuffer(value) ? value : Buffer.from(value) });
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === undefined || message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(message.key),
    value: message.value ?? null,
    headers,
    timestamp: message.timestamp ?? Date.now(),
  };
}

export function produce(producer: NativeProducer, record: OutputRecord): void {
  const headers: NativeHeaders = record.headers.map((h) => ({ [h.key]: h.value }));
  try {
    producer.produce(record.topic, record.partition, record.value, record.key ?? undefined, record.timestamp, undefined, headers);
  } catch (err) {
    throw classifyKafkaError('produce', err);
  }
}

export function committedOffsets(consumer: NativeConsumer, partitions: TopicPartition[], timeoutMs = 30_000): Promise<TopicPartitionOffset[]> {
  return settle('fetch committed offsets', (cb) => consumer.committed(partitions.map((p) => ({ ...p })), timeoutMs,
    (err, result) => cb(err, err ? undefined : result.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset ?? -1001 })))));
}

export function watermarks(client: NativeConsumer, tp: TopicPartition, timeoutMs = 30_000): Promise<{ low: number; high: number }> {
  return settle('query watermarks', (cb) => client.queryWatermarkOffsets(tp.topic, tp.partition, timeoutMs,
    (err, offsets) => cb(err, err ? undefined : { low: offsets.lowOffset, high: offsets.highOffset })));
}

export function seek(consumer: NativeConsumer, tpo: TopicPartitionOffset): Promise<void> {
  return settle('seek', (cb) => consumer.seek({ topic: tpo.topic, partition: tpo.partition, offset: tpo.offset }, 10_000, (err) => cb(err)));
}

export const transactions = {
  init: (p: NativeProducer, timeoutMs: number) => settle<void>('init transactions', (cb) => p.initTransactions(timeoutMs, (err) => cb(err))),
  begin: (p: NativeProducer) => settle<void>('begin transaction', (cb) => p.beginTransaction((err) => cb(err))),
  sendOffsets: (p: NativeProducer, offsets: TopicPartitionOffset[], consumer: NativeConsumer, timeoutMs: number) =>
    settle<void>('send offsets to transaction', (cb) => p.sendOffsetsToTransaction(offsets.map((o) => ({ ...o })), consumer, timeoutMs, (err) => cb(err))),
  commit: (p: NativeProducer, timeoutMs: number) => settle<void>('commit transaction', (cb) => p.commitTransaction(timeoutMs, (err) => cb(err))),
  abort: (p: NativeProducer, timeoutMs: number) => settle<void>('abort transaction', (cb) => p.abortTransaction(timeoutMs, (err) => cb(err))),
};

/** Metadata of the topics the client already knows: a cheap "do the brokers answer?" probe. */
export function metadata(client: NativeConsumer | NativeProducer, timeoutMs: number): Promise<void> {
  return settle('fetch metadata', (cb) => client.getMetadata({ allTopics: false, timeout: timeoutMs }, (err) => cb(err)));
}

export function flush(producer: NativeProducer, timeoutMs: number): Promise<void> {
  return settle('flush', (cb) => producer.flush(timeoutMs, (err) => cb(err)));
}
