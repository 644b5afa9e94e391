/**
 * The only way a DLQ record leaves recrypt. `divert` builds the record under the payload policy and
 * runs the guard on exactly the bytes that would be produced; it returns the record only when the guard
 * finds no tagged plaintext. Everything else fails closed: a missing DLQ topic, a policy that cannot be
 * applied, a failed redaction or DLQ encryption, or a guard hit halts the source partition, and nothing
 * of the record is written anywhere (its offset stays uncommitted). Transient errors (registry, KMS,
 * broker) propagate: the batch is retried, never sent to the DLQ.
 *
 * Record layout: key null (source keys may be sensitive; the `__source.*` headers locate the record),
 * partition = source partition modulo the DLQ topic's partition count (the same partition when recrypt
 * created the DLQ topic), the source timestamp, and the headers of headers.ts.
 */
import type { DekManager } from '../keys/index.js';
import type { SchemaRegistryApi } from '../registry/types.js';
import { RecryptError, errorCodeOf, isTransient } from '../util/errors.js';
import type { OutputRecord, ProcessedRecord } from '../util/records.js';
import { DlqSchemas, type DlqKek } from './dlq-schemas.js';
import { findPlaintext } from './guard.js';
import { dlqHeaders } from './headers.js';
import { buildPayload } from './policies.js';
import type { DlqEvents, DlqPolicy, DlqRuleInfo, DlqTopics, FailedRecord } from './types.js';

export interface DlqWriterOptions {
  /** The job-level DLQ topic (its `{topic}` already rendered), when the job has a dlq section. */
  readonly topic?: string;
  readonly policy: DlqPolicy;
  readonly kek?: DlqKek;
  /** Unreadable records (bad framing, unknown schema, undecodable payload) go to the job-level DLQ too. */
  readonly catchPoison: boolean;
  readonly registry: SchemaRegistryApi;
  readonly keys: DekManager;
  readonly topics: DlqTopics;
  readonly events?: DlqEvents;
  /** How long a missing DLQ topic is remembered before asking the broker again. */
  readonly missingTopicTtlMs?: number;
}

const PLACEHOLDER = '{topic}';

export class DlqWriter {
  private readonly schemas: DlqSchemas;
  /** Per DLQ topic: its partition count, or null (missing) or a permanent error, remembered for a while. */
  private readonly partitionCache = new Map<string, { partitions: number | null; error?: unknown; at: number }>();

  constructor(private readonly options: DlqWriterOptions) {
    this.schemas = new DlqSchemas(options.registry);
  }

  /** The DLQ topic a failure goes to, or undefined when it has none (the engine then halts). */
  topicFor(sourceTopic: string, rule: Pick<DlqRuleInfo, 'dlqTopic'> | undefined): string | undefined {
    if (rule === undefined) return this.options.catchPoison ? this.options.topic : undefined;
    const own = rule.dlqTopic?.trim();
    return own ? own.split(PLACEHOLDER).join(sourceTopic) : this.options.topic;
  }

  async divert(failed: FailedRecord): Promise<ProcessedRecord> {
    const { record } = failed;
    const topic = this.topicFor(record.topic, failed.rule);
    if (topic === undefined) return { halt: failed.error };
    // Unreadable records carry no payload: nothing of them can be shown to be free of plaintext. Nor do
    // failed keys: the payload policies describe values (types.ts).
    const policy: DlqPolicy = failed.rule === undefined || failed.part === 'key' ? 'reference' : this.options.policy;
    const where = { topic, policy, partition: record.partition, offset: record.offset };
    const at = `${record.topic}/${record.partition}@${record.offset}`;

    let partitions: number | null;
    try {
      partitions = await this.partitions(topic, record.topic);
    } catch (err) {
      // A DLQ topic that cannot take the record (e.g. compacted) halts the partition like a missing one.
      if (isTransient(err)) throw err;
      const code = errorCodeOf(err);
      this.options.events?.failed?.({ ...where, code });
      return { halt: err instanceof RecryptError ? err : new RecryptError('KAFKA_TOPIC', `DLQ topic ${topic} cannot be written; record ${at} not written`, { cause: err }) };
    }
    if (partitions === null) {
      this.options.events?.failed?.({ ...where, code: 'KAFKA_TOPIC' });
      return { halt: new RecryptError('KAFKA_TOPIC', `DLQ topic ${topic} does not exist and the job may not create it; record ${at} not written`) };
    }
    let candidate;
    try {
      candidate = await buildPayload(policy, failed, { topic, schemas: this.schemas, keys: this.options.keys, ...(this.options.kek ? { kek: this.options.kek } : {}) });
    } catch (err) {
      if (isTransient(err)) throw err;
      const code = errorCodeOf(err);
      this.options.events?.failed?.({ ...where, code });
      return { halt: new RecryptError('DLQ_BUILD_FAILED', `DLQ record for ${at} (payload ${policy}) could not be built: ${code}`, { cause: err }) };
    }
    const out: OutputRecord = {
      topic,
      partition: record.partition % partitions,
      key: null,
      value: candidate.value,
      headers: [...dlqHeaders(record, failed.error, failed.rule, failed.schemaId, policy, failed.part), ...candidate.headers],
      timestamp: record.timestamp,
    };
    const hit = findPlaintext(out, [...(failed.view?.plaintexts ?? []), ...(failed.otherPlaintexts ?? [])], candidate.structure);
    if (hit !== undefined) {
      this.options.events?.blocked?.({ ...where, where: hit.where, encoding: hit.encoding });
      return { halt: new RecryptError('DLQ_PLAINTEXT_BLOCKED', `DLQ record for ${at} (payload ${policy}) blocked: tagged plaintext in ${hit.where} (${hit.encoding})`) };
    }
    this.options.events?.routed?.({ topic, policy, cause: failed.rule === undefined ? 'poison' : 'rule' });
    return { outputs: [out], dlq: true };
  }

  private async partitions(topic: string, sourceTopic: string): Promise<number | null> {
    const cached = this.partitionCache.get(topic);
    const ttl = this.options.missingTopicTtlMs ?? 10_000;
    if (cached && (cached.partitions !== null || Date.now() - cached.at < ttl)) {
      if (cached.error !== undefined) throw cached.error;
      return cached.partitions;
    }
    let partitions: number | null;
    try {
      partitions = await this.options.topics.partitions(topic, sourceTopic);
    } catch (err) {
      // A permanent answer (e.g. a compacted topic) is asked again only after the TTL, like a missing topic.
      if (!isTransient(err)) this.partitionCache.set(topic, { partitions: null, error: err, at: Date.now() });
      throw err;
    }
    if (partitions !== null && partitions < 1) throw new RecryptError('INTERNAL', `DLQ topic ${topic} reports no partitions`);
    this.partitionCache.set(topic, { partitions, at: Date.now() });
    return partitions;
  }
}
