/**
 * The soak's records and the Kafka plumbing around them: the source subject (Customer, PII encrypted
 * with AES256_GCM under a local-kms KEK), a pool of values encrypted once by Confluent's own serializer
 * (encrypting 7 million records at 2,000/s would cost the producer as much as the fleet it feeds), the
 * paced producer, the group's lag as an operator's exporter sees it, and the exactly-once check.
 *
 * Every record carries its sequence number in its key (`s<seq>`) and goes to partition seq % P, so the
 * check needs no copy of the source: each seq below `produced` must be in the target once, and within
 * a partition the seqs must rise.
 */
import kafkaJs from '@confluentinc/kafka-javascript';
import {
  AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, LocalKmsDriver, RuleRegistry, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import kafkajs from 'kafkajs';
import { isDeepStrictEqual } from 'node:util';

const { Kafka, logLevel } = kafkaJs.KafkaJS;

export const CUSTOMER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'soak',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
  ],
});

export interface Customer { id: number; name: string; email: string; country: string; balance: number }

export const KMS_KEY_ID = 'soak';

export function customer(i: number): Customer {
  return { id: i, name: `Soak Person ${i}`, email: `person${i}@soak.example`, country: ['NL', 'DE', 'FR'][i % 3]!, balance: i / 8 };
}

export async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: logLevel.NOTHING } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
  } finally {
    await admin.disconnect();
  }
}

/** Registers the source subject with its GCM rule, then encrypts `size` customers with Confluent's serializer. */
export async function encryptedPool(registryUrl: string, sourceTopic: string, kek: string, secret: string, size: number): Promise<Buffer[]> {
  const res = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${sourceTopic}-value`)}/versions`, {
    method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({
      schemaType: 'AVRO', schema: CUSTOMER_SCHEMA,
      ruleSet: { domainRules: [{
        name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
        params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': KMS_KEY_ID, 'encrypt.dek.algorithm': 'AES256_GCM' },
      }] },
    }),
  });
  if (!res.ok) throw new Error(`registering ${sourceTopic}-value: ${res.status} ${await res.text()}`);
  const { serializer } = officialSerdes(registryUrl, secret);
  const pool: Buffer[] = [];
  for (let i = 0; i < size; i++) pool.push(await serializer.serialize(sourceTopic, customer(i)));
  return pool;
}

export function officialSerdes(registryUrl: string, secret: string) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new SchemaRegistryClient({ baseURLs: [registryUrl], cacheCapacity: 1000 });
  const ruleConfig = { secret };
  return {
    serializer: new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig }, rules),
    deserializer: new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules),
  };
}

/**
 * Writes `rate` records a second until stopped, in ticks of 100 ms; a tick that falls behind (the
 * broker was slow) is made up in the next ones, so the count follows the clock.
 */
export class PacedProducer {
  private readonly producer;
  private running = false;
  private loop?: Promise<void>;
  produced = 0;
  sendErrors = 0;

  constructor(bootstrap: string, private readonly topic: string, private readonly partitions: number, private readonly pool: readonly Buffer[], private readonly rate: number) {
    this.producer = new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: logLevel.NOTHING } })
      .producer({ kafkaJS: { idempotent: true, acks: -1 } });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.running = true;
    const started = Date.now();
    this.loop = (async () => {
      while (this.running) {
        const due = Math.floor(((Date.now() - started) / 1000) * this.rate) - this.produced;
        const count = Math.min(due, this.rate);
        if (count > 0) {
          const from = this.produced;
          const messages = Array.from({ length: count }, (_, i) => {
            const seq = from + i;
            return { key: `s${seq}`, value: this.pool[seq % this.pool.length]!, partition: seq % this.partitions };
          });
          try {
            await this.producer.send({ topic: this.topic, messages });
            this.produced += count;
          } catch {
            // Idempotent producer: a failed send wrote none of its records in a way the retry duplicates; try again.
            this.sendErrors += 1;
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    await this.producer.disconnect();
    return this.produced;
  }
}

/** The group's lag on the source topic from outside: the sum over partitions of end offset minus committed offset. */
export class GroupLag {
  private readonly admin;

  constructor(bootstrap: string, private readonly groupId: string, private readonly topic: string) {
    this.admin = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } }).admin();
  }

  connect(): Promise<void> { return this.admin.connect(); }
  async disconnect(): Promise<void> { await this.admin.disconnect().catch(() => undefined); }

  async lag(): Promise<number> {
    const [committed, ends] = await Promise.all([
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }),
      this.admin.fetchTopicOffsets(this.topic),
    ]);
    const offsets = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    let lag = 0;
    for (const end of ends) lag += Number(end.high) - Math.max(offsets.get(end.partition) ?? -1, Number(end.low));
    return lag;
  }
}

export interface ExactlyOnce {
  readonly produced: number;
  readonly read: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Records whose seq is not above the previous one of their partition. */
  readonly outOfOrder: number;
  /** Records not from this run (a key that is no `s<seq>` below `produced`, or on the wrong partition). */
  readonly foreign: number;
  /** Sampled target values decrypted with Confluent's deserializer, and how many differed from the source. */
  readonly decrypted: number;
  readonly decryptMismatches: number;
  readonly pass: boolean;
}

/**
 * Reads the whole target read_committed and counts every seq; stops when it has read `produced`
 * records and then nothing for `idleMs` (a duplicate would show up as more), or after `idleMs` of nothing.
 */
export async function checkExactlyOnce(
  bootstrap: string, target: string, partitions: number, produced: number,
  decrypt: (value: Buffer) => Promise<unknown>, expected: (seq: number) => Customer, idleMs = 15_000,
): Promise<ExactlyOnce> {
  const counts = new Uint8Array(produced);
  const lastSeq = new Array<number>(partitions).fill(-1);
  let read = 0;
  let outOfOrder = 0;
  let foreign = 0;
  let decrypted = 0;
  let decryptMismatches = 0;
  const sampleEvery = Math.max(1, Math.floor(produced / 200));
  const consumer = new kafkaJs.KafkaConsumer({
    'bootstrap.servers': bootstrap, 'group.id': `soak-check-${process.pid}-${Date.now()}`, 'enable.auto.commit': false,
    'isolation.level': 'read_committed', 'log_level': 3, 'fetch.max.bytes': 52_428_800,
  }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: target, partition, offset: 0 })));
    let lastRead = Date.now();
    while (Date.now() - lastRead < idleMs) {
      const messages = await new Promise<kafkaJs.Message[]>((resolve, reject) => consumer.consume(5000, (err, m) => (err ? reject(err) : resolve(m))));
      if (messages.length) lastRead = Date.now();
      for (const m of messages) {
        read += 1;
        const key = m.key?.toString() ?? '';
        const seq = key.startsWith('s') ? Number(key.slice(1)) : Number.NaN;
        if (!Number.isInteger(seq) || seq < 0 || seq >= produced || seq % partitions !== m.partition) {
          foreign += 1;
          continue;
        }
        counts[seq] = Math.min(255, counts[seq]! + 1);
        if (seq <= lastSeq[m.partition]!) outOfOrder += 1;
        lastSeq[m.partition] = seq;
        if (seq % sampleEvery === 0 && m.value) {
          decrypted += 1;
          const plain = await decrypt(m.value).catch(() => undefined);
          // Avro longs come back as numbers here: compare field by field with what was encrypted.
          if (!isDeepStrictEqual(normalize(plain), normalize(expected(seq)))) decryptMismatches += 1;
        }
      }
      if (read >= produced && messages.length === 0) break;
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  let lost = 0;
  let duplicated = 0;
  for (let i = 0; i < produced; i++) {
    if (counts[i] === 0) lost += 1;
    else duplicated += counts[i]! - 1;
  }
  const pass = lost === 0 && duplicated === 0 && outOfOrder === 0 && foreign === 0 && decryptMismatches === 0 && read === produced;
  return { produced, read, lost, duplicated, outOfOrder, foreign, decrypted, decryptMismatches, pass };
}

function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as unknown;
}
