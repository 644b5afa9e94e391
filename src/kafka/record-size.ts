/**
 * Output record sizes against the limits that refuse them: the producer's `message.max.bytes`
 * (librdkafka refuses a larger record at produce(), before anything is sent) and the target topic's
 * `max.message.bytes` (the broker refuses a larger record batch, which aborts the whole transaction).
 * Checked before producing, so a record that cannot be written halts (or goes to the DLQ) on its own
 * instead of poisoning every transaction it is retried in.
 */
import { RecryptError } from '../util/errors.js';
import type { OutputRecord, SourceRecord } from '../util/records.js';

/** librdkafka's default `message.max.bytes`. */
export const DEFAULT_PRODUCER_MAX_BYTES = 1_000_000;
/** A v2 record's framing beyond key, value and headers (length, attributes, deltas, varints), rounded up. */
const RECORD_OVERHEAD = 40;
/** A record batch's header: the broker's limit applies to the batch a record travels in. */
export const BATCH_OVERHEAD = 61;

export interface SizeLimits {
  /** The producer's message.max.bytes. */
  readonly producerMaxBytes: number;
  /**
   * Target topics' max.message.bytes, as far as known (fetched at start). The broker checks the
   * compressed batch; the uncompressed size checked here is an upper bound of it (encrypted fields
   * hardly compress). Erring on that side matters: a batch the broker refuses holds back the later
   * batches of its partition until the transaction aborts, and the commit waits out its whole timeout.
   */
  readonly topicMaxBytes: ReadonlyMap<string, number>;
}

/** Upper bound of a record's size as librdkafka counts it against message.max.bytes. */
export function wireSize(record: OutputRecord): number {
  let size = RECORD_OVERHEAD + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const h of record.headers) size += Buffer.byteLength(h.key) + h.value.length + 10;
  return size;
}

/** `message.max.bytes` of a producer configuration (librdkafka's default when unset). */
export function producerMaxBytes(config: Readonly<Record<string, string | number | boolean>>): number {
  const raw = config['message.max.bytes'];
  const n = typeof raw === 'number' ? raw : Number(raw);
  return raw !== undefined && Number.isFinite(n) && n > 0 ? n : DEFAULT_PRODUCER_MAX_BYTES;
}

const RAISE = "raise the producer's message.max.bytes (env KAFKA_PROP_MESSAGE_MAX_BYTES) and the target topic's max.message.bytes";

export function tooLarge(source: SourceRecord, target: string, size: number, limit: number, which: string, cause?: unknown): RecryptError {
  const at = `${source.topic}/${source.partition}@${source.offset}`;
  return new RecryptError('RECORD_TOO_LARGE',
    `record ${at}: its output to ${target} is ${size} bytes, over the ${which} of ${limit} bytes; ${RAISE}, or give the job a dlq to divert such records`,
    cause === undefined ? {} : { cause });
}

/** The RECORD_TOO_LARGE error of the first output of `source` that a limit refuses, if any. */
export function oversize(source: SourceRecord, outputs: readonly OutputRecord[], limits: SizeLimits): RecryptError | undefined {
  for (const out of outputs) {
    const size = wireSize(out);
    if (size > limits.producerMaxBytes) return tooLarge(source, out.topic, size, limits.producerMaxBytes, "producer's message.max.bytes");
    const topicMax = limits.topicMaxBytes.get(out.topic);
    if (topicMax !== undefined && size + BATCH_OVERHEAD > topicMax) {
      return tooLarge(source, out.topic, size + BATCH_OVERHEAD, topicMax, `max.message.bytes of topic ${out.topic}`);
    }
  }
  return undefined;
}

/** RECORD_TOO_LARGE (or KAFKA_PRODUCE) for a refusal the client reported without naming the record. */
export function refusedRecord(source: SourceRecord, outputs: readonly OutputRecord[], error: RecryptError): RecryptError {
  const at = `${source.topic}/${source.partition}@${source.offset}`;
  const size = Math.max(0, ...outputs.map(wireSize));
  const targets = [...new Set(outputs.map((o) => o.topic))].join(', ');
  if (error.code === 'RECORD_TOO_LARGE') {
    return new RecryptError('RECORD_TOO_LARGE', `record ${at}: the producer or broker refused its ${size}-byte output to ${targets} as too large; ${RAISE}, or give the job a dlq to divert such records`, { cause: error });
  }
  return new RecryptError('KAFKA_PRODUCE', `record ${at}: the producer or broker refused its output to ${targets} (${error.message})`, { cause: error });
}
