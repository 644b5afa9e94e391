/**
 * What `recrypt dlq replay` reads from a DLQ record, and what it may do with it. Pure: no I/O, no record
 * values (a decision carries coordinates, header names and codes only, so it can be printed and logged).
 *
 * Where a replayed record comes from:
 * - the source record itself, at `__source.topic/partition/offset`, when the source topic still holds it
 *   (any payload policy, either part): the exact record, with its key, headers and timestamp. The DLQ
 *   record's timestamp is the source record's (dlq-writer.ts), so a record found there with another
 *   timestamp (a topic deleted and created again) is not taken for it, unless the DLQ topic stamps its
 *   own times (LogAppendTime);
 * - else the DLQ payload, only where it is the source value unchanged: policy `source`, a failed value,
 *   and a job that neither transforms keys nor places records by key (DLQ records carry no key: the
 *   replayed record has a null key and only the value's schema id header);
 * - else nothing: `reference` has no payload, `redacted` lost the tagged values, and an `encrypted`
 *   payload is not the source value (non-string tagged fields were redacted, and after a READ failure
 *   the fields hold source ciphertext); the runbook describes the manual route for it.
 *
 * Loops: a replayed record that fails again goes to the DLQ by the job's normal handling, with
 * `__dlq.replay.attempts` one more than the record it was replayed from; a record whose count has
 * reached the limit is not replayed again.
 */
import type { RecordHeader, SourceRecord } from '../util/records.js';
import { VALUE_SCHEMA_ID_HEADER } from '../wire/index.js';
import { DLQ_HEADERS } from './headers.js';
import type { DlqPolicy } from './types.js';

/** How many times the record's source record has been replayed and failed again (absent: never). */
export const REPLAY_ATTEMPTS_HEADER = '__dlq.replay.attempts';

/** Default limit of replays of one source record through the DLQ. */
export const DEFAULT_MAX_REPLAY_ATTEMPTS = 3;

const POLICIES: readonly DlqPolicy[] = ['reference', 'redacted', 'source', 'encrypted'];

export interface Coordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A DLQ record as its headers describe it. */
export interface DlqEntry {
  readonly dlq: Coordinates;
  readonly source: Coordinates;
  readonly part: 'key' | 'value';
  readonly policy: DlqPolicy;
  /** `CODE: ErrorClass` of the failure. */
  readonly exception?: string;
  readonly rule?: { readonly name: string; readonly mode?: string };
  readonly schemaId?: string;
  /** Replays already made of this source record that failed again. */
  readonly attempts: number;
  /** Whether the DLQ record has a value (the `source` payload replays from it). */
  readonly hasValue: boolean;
  readonly timestamp: number;
}

/** A DLQ record whose headers do not locate a source record. */
export interface UnreadableEntry {
  readonly dlq: Coordinates;
  readonly problem: string;
}

function header(headers: readonly RecordHeader[], key: string): string | undefined {
  // The last one wins, as Kafka clients read repeated headers.
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === key) return headers[i]!.value.toString('utf8');
  return undefined;
}

const COUNT = /^(0|[1-9][0-9]{0,14})$/;

/** Parses a DLQ record's headers. Never looks at its value beyond whether there is one. */
export function parseDlqRecord(record: SourceRecord): DlqEntry | UnreadableEntry {
  const dlq = { topic: record.topic, partition: record.partition, offset: record.offset };
  const h = (key: string) => header(record.headers, key);
  const topic = h(DLQ_HEADERS.sourceTopic);
  const partition = h(DLQ_HEADERS.sourcePartition);
  const offset = h(DLQ_HEADERS.sourceOffset);
  if (topic === undefined || topic === '') return { dlq, problem: `no ${DLQ_HEADERS.sourceTopic} header: not a recrypt DLQ record` };
  if (partition === undefined || !COUNT.test(partition)) return { dlq, problem: `${DLQ_HEADERS.sourcePartition} missing or not a partition number` };
  if (offset === undefined || !COUNT.test(offset)) return { dlq, problem: `${DLQ_HEADERS.sourceOffset} missing or not an offset` };
  const payload = h(DLQ_HEADERS.payload) ?? 'reference';
  if (!(POLICIES as readonly string[]).includes(payload)) return { dlq, problem: `${DLQ_HEADERS.payload} names no known payload policy` };
  const part = h(DLQ_HEADERS.sourcePart);
  if (part !== undefined && part !== 'key') return { dlq, problem: `${DLQ_HEADERS.sourcePart} is neither absent nor key` };
  const attempts = h(REPLAY_ATTEMPTS_HEADER);
  if (attempts !== undefined && !COUNT.test(attempts)) return { dlq, problem: `${REPLAY_ATTEMPTS_HEADER} is not a count` };
  const ruleName = h(DLQ_HEADERS.ruleName);
  const ruleMode = h(DLQ_HEADERS.ruleMode);
  const exception = h(DLQ_HEADERS.ruleException);
  const schemaId = h(DLQ_HEADERS.sourceSchemaId);
  return {
    dlq,
    source: { topic, partition: Number(partition), offset: Number(offset) },
    part: part === 'key' ? 'key' : 'value',
    policy: payload as DlqPolicy,
    ...(exception !== undefined ? { exception } : {}),
    ...(ruleName !== undefined ? { rule: { name: ruleName, ...(ruleMode !== undefined ? { mode: ruleMode } : {}) } } : {}),
    ...(schemaId !== undefined ? { schemaId } : {}),
    attempts: attempts === undefined ? 0 : Number(attempts),
    hasValue: record.value !== null,
    timestamp: record.timestamp,
  };
}

export function isUnreadable(entry: DlqEntry | UnreadableEntry): entry is UnreadableEntry {
  return 'problem' in entry;
}

/** What the replay found at the source coordinates. */
export type SourceLookup =
  | { readonly kind: 'found'; readonly record: SourceRecord }
  /** Below the partition's low watermark, compacted away, or the partition is gone. */
  | { readonly kind: 'gone' };

export interface ReplayContext {
  /** The job's source topics: a DLQ record of another topic is not this job's to replay. */
  readonly sourceTopics: ReadonlySet<string>;
  /** The job transforms keys (keys: rules) or places records by key hash. */
  readonly keyed: boolean;
  readonly maxAttempts: number;
  /**
   * DLQ topics with `message.timestamp.type=LogAppendTime`: the broker stamped their records, so their
   * timestamps cannot confirm the source record (absent: none).
   */
  readonly appendTimeTopics?: ReadonlySet<string>;
}

export type ReplayDecision =
  | { readonly replay: true; readonly from: 'source-record' | 'dlq-payload'; readonly why: string }
  | { readonly replay: false; readonly why: string };

/** Whether the replay can take the entry at all, before looking at the source topic (undefined: it can). */
export function refuseBeforeLookup(entry: DlqEntry, ctx: ReplayContext): ReplayDecision | undefined {
  if (!ctx.sourceTopics.has(entry.source.topic)) {
    return { replay: false, why: `source topic ${entry.source.topic} is not a source of this job` };
  }
  if (entry.attempts >= ctx.maxAttempts) {
    return { replay: false, why: `replayed and failed ${entry.attempts} times already (limit ${ctx.maxAttempts})` };
  }
  return undefined;
}

/** The replay decision for one entry, given what is at its source coordinates. */
export function decideReplay(entry: DlqEntry, lookup: SourceLookup, ctx: ReplayContext): ReplayDecision {
  const refused = refuseBeforeLookup(entry, ctx);
  if (refused) return refused;
  if (lookup.kind === 'found') {
    const confirmed = lookup.record.timestamp === entry.timestamp || ctx.appendTimeTopics?.has(entry.dlq.topic) === true;
    if (confirmed) return { replay: true, from: 'source-record', why: 'the source record is still in its topic' };
    if (entry.policy !== 'source') {
      return { replay: false, why: 'the record at the source coordinates has another timestamp than the one that failed (topic recreated?)' };
    }
  }
  const gone = lookup.kind === 'gone' ? 'the source record is no longer in its topic' : 'the source record at its coordinates is not the one that failed';
  switch (entry.policy) {
    case 'reference':
      return { replay: false, why: `${gone} and a reference DLQ record has no payload` };
    case 'redacted':
      return { replay: false, why: `${gone} and the redacted payload has lost the tagged values` };
    case 'encrypted':
      return { replay: false, why: `${gone}; an encrypted payload is not the source value (see the runbook's manual route)` };
    case 'source':
      if (entry.part === 'key') return { replay: false, why: `${gone} and the DLQ keeps no key` };
      if (!entry.hasValue) return { replay: false, why: `${gone} and the DLQ record has no value` };
      if (ctx.keyed) return { replay: false, why: `${gone}; the DLQ keeps no key and this job transforms or places records by key` };
      return { replay: true, from: 'dlq-payload', why: `${gone}; replayed from the source payload with a null key` };
  }
}

/**
 * The source record rebuilt from a `source` DLQ payload: the original value bytes and schema id header
 * at the source coordinates, with a null key (the DLQ keeps none) and the source timestamp.
 */
export function sourceFromPayload(entry: DlqEntry, dlqRecord: SourceRecord): SourceRecord {
  const idHeader = dlqRecord.headers.filter((h) => h.key === VALUE_SCHEMA_ID_HEADER).slice(-1);
  return { ...entry.source, key: null, value: dlqRecord.value, headers: idHeader, timestamp: dlqRecord.timestamp };
}

/** A DLQ record written while replaying `entry`: one more replay attempt on its headers. */
export function withReplayAttempt<T extends { readonly headers: readonly RecordHeader[] }>(out: T, entry: DlqEntry): T {
  const headers = out.headers.filter((h) => h.key !== REPLAY_ATTEMPTS_HEADER);
  return { ...out, headers: [...headers, { key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from(String(entry.attempts + 1), 'utf8') }] };
}
