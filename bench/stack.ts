/**
 * The stack-bound suites' plumbing (e2e, backfill, startup): the local stack's environment, the Kafka
 * admin calls they make (topics and consumer groups), and reading a sample of a topic back.
 */
import kafka from '@confluentinc/kafka-javascript';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** .stack/env into process.env (never overriding what the caller set), as the integration tests do. */
export function loadStackEnv(): void {
  const file = join(process.env.RECRYPT_STACK_DIR ?? join(ROOT, '.stack'), 'env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
    }
  }
  for (const name of ['KAFKA_BOOTSTRAP_SERVERS', 'SCHEMA_REGISTRY_URL']) {
    if (!process.env[name]) throw new Error(`${name} is not set: this suite needs the local stack (npm run stack:up; npm run bench starts it)`);
  }
}

/** The broker's pid from the stack's pid file, when it runs on this machine. */
export function brokerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(process.env.RECRYPT_STACK_DIR ?? join(ROOT, '.stack'), 'pids', 'kafka.pid'), 'utf8').trim());
    return existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function localSecret(): string {
  if (process.env.LOCAL_SECRET) return process.env.LOCAL_SECRET;
  const file = process.env.LOCAL_SECRET_FILE;
  if (!file) throw new Error('LOCAL_SECRET or LOCAL_SECRET_FILE must be set (.stack/env has LOCAL_SECRET_FILE)');
  return readFileSync(file, 'utf8').trim();
}

export function admin() {
  const { Kafka, logLevel } = kafka.KafkaJS;
  return new Kafka({ kafkaJS: { brokers: process.env.KAFKA_BOOTSTRAP_SERVERS!.split(','), logLevel: logLevel.NOTHING } }).admin();
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const a = admin();
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
  } finally {
    await a.disconnect();
  }
}

/** Deletes the topics that exist and the groups; says what it deleted ("3 topics", "2 consumer groups"). */
export async function deleteTopicsAndGroups(topics: readonly string[], groups: readonly string[]): Promise<string[]> {
  const a = admin();
  await a.connect();
  try {
    const existing = new Set(await a.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await a.deleteTopics({ topics: present, timeout: 30_000 });
    const deleted = groups.length ? await a.deleteGroups([...groups]).then(() => groups.length, () => 0) : 0;
    return [`${present.length} topics`, `${deleted} consumer groups`];
  } finally {
    await a.disconnect();
  }
}

/** Reads up to `count` records of `topic` (read_committed, from the start of every partition). */
export async function readSample(topic: string, partitions: number, count: number): Promise<Array<{ key: Buffer; value: Buffer }>> {
  const consumer = new kafka.KafkaConsumer({
    'bootstrap.servers': process.env.KAFKA_BOOTSTRAP_SERVERS!, 'group.id': `bench-verify-${randomBytes(4).toString('hex')}`,
    'enable.auto.commit': false, 'isolation.level': 'read_committed', 'log_level': 3,
  }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  const out: Array<{ key: Buffer; value: Buffer }> = [];
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    const deadline = Date.now() + 30_000;
    while (out.length < count && Date.now() < deadline) {
      const messages = await new Promise<kafka.Message[]>((resolve, reject) => consumer.consume(500, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of messages) if (m.key && m.value && out.length < count) out.push({ key: Buffer.from(m.key), value: m.value });
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  if (out.length < count) throw new Error(`${topic}: read ${out.length} of ${count} sample records`);
  return out;
}
