/**
 * What dlq/ is told about a record that failed, and what it needs from the rest of recrypt. The engine
 * describes the failure (which rule, which error) and the source record as it understood it (a fresh
 * decode with tagged fields decrypted where it could); dlq/ builds the DLQ record under the job's
 * payload policy and proves with the guard that no tagged plaintext goes out.
 */
import type { Codec, FieldWalker } from '../formats/index.js';
import type { SchemaInfo } from '../registry/types.js';
import type { RecryptError } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';
import type { RecordPart } from '../wire/index.js';

export type DlqPolicy = 'reference' | 'redacted' | 'source' | 'encrypted';

/** A tagged field's value as the guard looks for it. */
export type Plaintext = string | Uint8Array;

/** The rule that failed, for the `__rule.*` headers. */
export interface DlqRuleInfo {
  readonly name: string;
  readonly mode: 'WRITE' | 'READ';
  /** Subject of the schema that carries the rule (DEK subject). */
  readonly subject: string;
  /** Topic the rule ran for: the source topic on read, the target topic on write. */
  readonly topic: string;
  /** The rule's own `dlq.topic` param, when it names one. */
  readonly dlqTopic?: string;
}

/** The source record decoded with its writer schema, tagged fields decrypted where the engine could. */
export interface DecodedSource {
  /** The writer schema's codec: redacted and encrypted records are re-encoded with it. */
  readonly codec: Codec;
  /** A fresh value owned by dlq/ (policies rewrite it); never the half-processed value of the transform. */
  readonly value: unknown;
  /** Walks every field tagged by any ENCRYPT rule of the writer or target schema; null when none. */
  readonly tagged: FieldWalker | null;
  /** Full names of the tagged fields (what `tagged` walks). */
  readonly taggedFields: readonly string[];
}

export interface SourceView {
  readonly writer: {
    readonly id: number;
    readonly guid?: string;
    /** Schema text, type and references: DLQ subjects are registered with the same text. */
    readonly info: SchemaInfo;
    readonly messageIndexes?: readonly number[];
    /** The writer encrypted the whole payload (ENCRYPT_PAYLOAD): its bytes are ciphertext. */
    readonly payloadEncrypted: boolean;
  };
  /** Absent when the payload could not be decrypted or decoded. */
  readonly decoded?: DecodedSource;
  /**
   * Every tagged value of the source known or suspected to be plaintext (non-empty): values the engine
   * decrypted, values of tagged fields no writer rule encrypts, and values that are not ciphertext-shaped.
   */
  readonly plaintexts: readonly Plaintext[];
  /** Every tagged field of the writer schema is encrypted by one of its ENCRYPT rules on write. */
  readonly sourceFullyEncrypted: boolean;
}

export interface FailedRecord {
  readonly record: SourceRecord;
  readonly error: RecryptError;
  /** Absent when the record itself is unreadable (bad framing, unknown schema, undecodable payload). */
  readonly rule?: DlqRuleInfo;
  /** Writer schema id or GUID as the record names it, when it could be read. */
  readonly schemaId?: string;
  readonly view?: SourceView;
  /**
   * Which part of the record failed (default the value). A key that failed goes out as a reference
   * whatever the job's payload policy: the policies describe values, and a DLQ record's key is null.
   */
  readonly part?: RecordPart;
  /** Tagged plaintexts of the record's other part (the key's under `keys: rules`): the guard looks for them too. */
  readonly otherPlaintexts?: readonly Plaintext[];
}

/** Topic lookups that need Kafka (kafka/ sits above dlq/): wired in by service/. */
export interface DlqTopics {
  /**
   * Partition count of `topic`, creating it (mirroring `sourceTopic`) when the job may create topics;
   * null when it does not exist and may not be created. Transient errors propagate.
   */
  partitions(topic: string, sourceTopic: string): Promise<number | null>;
}

/** Value-free events for metrics and logs. */
export interface DlqEvents {
  routed?(info: { topic: string; policy: DlqPolicy; cause: 'rule' | 'poison' }): void;
  blocked?(info: { topic: string; policy: DlqPolicy; partition: number; offset: number; where: string; encoding: string }): void;
  failed?(info: { topic: string; policy: DlqPolicy; partition: number; offset: number; code: string }): void;
}
