// Raw Kafka access for integration tests: topics, and records with key, value, headers, timestamp and
// partition exactly as they are on the broker (no serdes).
import kafkaJs from '@confluentinc/kafka-javascript';
import { stack, uniqueName } from './stack.js';

const { Kafka, logLevel } = kafkaJs.KafkaJS;

export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: string;
  partition: number;
  offset?: string;
}

export type RawRecordInput = Partial<Omit<RawRecord, 'value'>> & { value: Buffer | string | null };

export function kafka(): InstanceType<typeof Kafka> {
  return new Kafka({ kafkaJS: { brokers: [stack.kafkaBrokers], logLevel: logLevel.ERROR } });
}

export async function createTopic(prefix: string, partitions = 1, configs: Record<string, string> = {}): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export async function deleteTopics(...topics: string[]): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

function toMessage(record: RawRecordInput) {
  return {
    key: record.key ?? null,
    value: record.value,
    headers: record.headers,
    partition: record.partition ?? 0,
    ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
  };
}

/** Produces with an idempotent, non-transactional producer and waits for every ack. */
export async function produceRaw(topic: string, records: RawRecordInput[]): Promise<void> {
  const producer = kafka().producer({ kafkaJS: { idempotent: true, acks: -1 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages: records.map(toMessage) });
  } finally {
    await producer.disconnect();
  }
}

/** Runs `body` inside one transaction of a fresh transactional producer, then commits or aborts. */
export async function produceInTransaction(
  topic: string, records: RawRecordInput[], outcome: 'commit' | 'abort',
): Promise<void> {
  const producer = kafka().producer({ kafkaJS: { transactionalId: uniqueName('test-tx'), idempotent: true, maxInFlightRequests: 1 } });
  await producer.connect();
  try {
    const tx = await producer.transaction();
    await tx.send({ topic, messages: records.map(toMessage) });
    await (outcome === 'commit' ? tx.commit() : tx.abort());
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumeOptions {
  /** Stop once this many records arrived. */
  count?: number;
  /** Stop after this long without reaching `count` (or, without count, after this long idle). */
  idleMs?: number;
  isolation?: 'read_committed' | 'read_uncommitted';
}

/** Reads a topic from the beginning with a throwaway group and returns records in partition order. */
export async function consumeRaw(topic: string, options: ConsumeOptions = {}): Promise<RawRecord[]> {
  const { count, idleMs = count === undefined ? 3000 : 30_000, isolation = 'read_committed' } = options;
  const consumer = kafka().consumer({
    kafkaJS: { groupId: uniqueName('test-reader'), fromBeginning: true, autoCommit: false,
      readUncommitted: isolation === 'read_uncommitted' },
  });
  const records: RawRecord[] = [];
  // A consumer subscribed before its topic exists may not see it for minutes (metadata refresh):
  // wait for the topic first (it may be created by the process under test).
  if (!(await waitForTopic(topic, idleMs))) return records;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve) => {
      let idle = setTimeout(resolve, idleMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, Buffer> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = Buffer.from(Array.isArray(value) ? value[0]! : value);
          }
          records.push({ key: message.key ?? null, value: message.value ?? null, headers,
            timestamp: message.timestamp, partition, offset: message.offset });
          clearTimeout(idle);
          if (count !== undefined && records.length >= count) resolve();
          else idle = setTimeout(resolve, count === undefined ? idleMs : idleMs);
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

export async function waitForTopic(topic: string, timeoutMs: number): Promise<boolean> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await admin.listTopics()).includes(topic)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}
