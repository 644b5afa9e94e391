/**
 * Target topic creation that mirrors the source: same partition count (a source partition maps to the
 * same target partition) and the source's topic-level config overrides (cleanup.policy, retention.*).
 * librdkafka's bindings expose no DescribeConfigs, so this uses kafkajs's admin client for that call.
 */
import kafkajs from 'kafkajs';
import { RecryptError } from '../util/errors.js';
import { kafkaClients, type KafkaAdmin } from './client-factory.js';
import type { KafkaConnection } from './connection.js';
import { classifyAdminError } from './kafka-errors.js';

const { ConfigResourceTypes } = kafkajs;
/** kafkajs ConfigSource: TOPIC_CONFIG (a dynamic per-topic override). */
const TOPIC_OVERRIDE_SOURCE = 1;

export interface TopicDescription {
  readonly partitions: number;
  /** Topic-level overrides only; broker defaults are left to the target cluster. */
  readonly configs: Readonly<Record<string, string>>;
}

async function withAdmin<T>(connection: KafkaConnection, operation: string, body: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const admin = kafkaClients(connection).admin('recrypt-admin');
  try {
    await admin.connect();
    return await body(admin);
  } catch (err) {
    // A refused or dropped connection is an outage (retried), not a topic problem (permanent).
    throw classifyAdminError(operation, err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Partition count and topic-level overrides; null when the topic does not exist. */
export async function describeTopic(connection: KafkaConnection, topic: string): Promise<TopicDescription | null> {
  return withAdmin(connection, `describe topic ${topic}`, async (admin) => {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) return null;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics[0]?.partitions.length ?? 0;
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    const configs: Record<string, string> = {};
    for (const entry of described.resources[0]?.configEntries ?? []) {
      if ((entry as { configSource?: number }).configSource === TOPIC_OVERRIDE_SOURCE && !entry.isSensitive) {
        configs[entry.configName] = entry.configValue;
      }
    }
    return { partitions, configs };
  });
}

export async function listTopics(connection: KafkaConnection): Promise<string[]> {
  return withAdmin(connection, 'list topics', (admin) => admin.listTopics());
}

export interface EnsureTopicResult {
  readonly created: boolean;
  readonly partitions: number;
}

/**
 * Makes sure `target` exists with at least the source's partitions. Creates it (when allowed) with the
 * source's partition count and overrides; refuses a target with fewer partitions than the source, since
 * records keep their partition number.
 */
export async function ensureMirroredTopic(
  connection: KafkaConnection, source: string, target: string, options: { create: boolean; extraConfigs?: Record<string, string> },
): Promise<EnsureTopicResult> {
  const sourceTopic = await describeTopic(connection, source);
  if (!sourceTopic) throw new RecryptError('KAFKA_TOPIC', `source topic ${source} does not exist`);
  const existing = await describeTopic(connection, target);
  if (existing) {
    if (existing.partitions < sourceTopic.partitions) {
      throw new RecryptError('KAFKA_TOPIC', `target topic ${target} has ${existing.partitions} partitions, fewer than source ${source} (${sourceTopic.partitions}); records keep their partition`);
    }
    return { created: false, partitions: existing.partitions };
  }
  if (!options.create) throw new RecryptError('KAFKA_TOPIC', `target topic ${target} does not exist and createTopic is false`);
  const configs = { ...sourceTopic.configs, ...options.extraConfigs };
  await withAdmin(connection, `create topic ${target}`, async (admin) => {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: target, numPartitions: sourceTopic.partitions,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    });
  });
  return { created: true, partitions: sourceTopic.partitions };
}

export interface PartitionOffsets {
  readonly topic: string;
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

/** Low and high watermarks of every partition of the topics: the snapshot for `stopAt: end`. */
export async function snapshotOffsets(connection: KafkaConnection, topics: readonly string[]): Promise<PartitionOffsets[]> {
  return withAdmin(connection, 'fetch end offsets', async (admin) => {
    const out: PartitionOffsets[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        out.push({ topic, partition: p.partition, low: Number(p.low), high: Number(p.high) });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  });
}

/**
 * Effective `max.message.bytes` (topic override or broker default) of each topic that exists; topics
 * that do not exist are left out.
 */
export async function topicMaxMessageBytes(connection: KafkaConnection, topics: readonly string[]): Promise<Map<string, number>> {
  return withAdmin(connection, 'describe topic limits', async (admin) => {
    const existing = new Set(await admin.listTopics());
    const wanted = [...new Set(topics)].filter((t) => existing.has(t));
    const out = new Map<string, number>();
    if (wanted.length === 0) return out;
    const described = await admin.describeConfigs({
      resources: wanted.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })), includeSynonyms: false,
    });
    for (const resource of described.resources) {
      const value = Number(resource.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
      if (Number.isFinite(value) && value > 0) out.set(resource.resourceName, value);
    }
    return out;
  });
}
