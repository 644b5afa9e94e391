/**
 * The DLQ payload policies (shared/JOBS.md). Each builds the value (and the extra headers) of a DLQ
 * record from the SOURCE record, never from the half-transformed value: whichever rule failed, the
 * policy starts again from the source bytes the engine decoded afresh.
 * - reference: no value at all (null). An empty value is not an option: the Kafka client sends a
 *   zero-length value as null. DLQ records carry no key, so a DLQ topic cannot be compacted anyway
 *   (the broker refuses keyless records there); recrypt creates DLQ topics with cleanup.policy delete;
 * - redacted: the writer's record with every tagged field emptied ("" / empty bytes; numbers 0, booleans
 *   false), framed with the redacted schema registered under the DLQ subject;
 * - source: the original bytes (and their `__value_schema_id` header), only when every tagged field of
 *   the writer schema is encrypted by the writer's own rules;
 * - encrypted: tagged fields encrypted under the job's DLQ KEK (DEKs under the DLQ subject), framed with
 *   the schema registered for it, so Confluent consumers holding that KEK decrypt them.
 * Not exported from dlq/: only DlqWriter, which guards what these build, calls them.
 */
import { encodeBase64, type FieldCipher } from '../crypto/index.js';
import type { FieldInfo } from '../formats/index.js';
import { dekRefOf, type DekManager } from '../keys/index.js';
import { RecryptError } from '../util/errors.js';
import type { RecordHeader } from '../util/records.js';
import { encodeFrame, VALUE_SCHEMA_ID_HEADER } from '../wire/index.js';
import type { DlqKek, DlqSchemas } from './dlq-schemas.js';
import type { GuardStructure } from './guard.js';
import type { DecodedSource, DlqPolicy, FailedRecord, SourceView } from './types.js';

export interface Candidate {
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  /** How the guard decodes the value again; absent when the value is not a decodable record. */
  readonly structure?: GuardStructure;
}

export interface PolicyContext {
  readonly topic: string;
  readonly schemas: DlqSchemas;
  readonly keys: DekManager;
  readonly kek?: DlqKek;
}

const fail = (message: string): RecryptError => new RecryptError('DLQ_BUILD_FAILED', message);

/** The redacted form of one tagged value. */
export function redactValue(value: unknown, field: FieldInfo): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return field.kind === 'string' ? '' : value; // enum symbols stay (schema-defined)
  if (value instanceof Uint8Array) return field.kind === 'bytes' ? Buffer.alloc(0) : Buffer.alloc(value.length); // fixed keeps its size
  if (typeof value === 'number') return 0;
  if (typeof value === 'bigint') return 0n;
  if (typeof value === 'boolean') return false;
  return value;
}

function encryptValue(cipher: FieldCipher): (value: unknown, field: FieldInfo) => unknown {
  return (value, field) => {
    if (value === null || value === undefined) return value;
    if (typeof value === 'string' && field.kind === 'string') return encodeBase64(cipher.encrypt(Buffer.from(value, 'utf8')));
    if (value instanceof Uint8Array && field.kind === 'bytes') return Buffer.from(cipher.encrypt(value));
    return redactValue(value, field);
  };
}

function decodedOf(view: SourceView | undefined, policy: DlqPolicy): { view: SourceView; decoded: DecodedSource } {
  if (view?.decoded === undefined) throw fail(`the source record could not be decoded for the ${policy} policy`);
  return { view, decoded: view.decoded };
}

function structureOf(view: SourceView, decoded: DecodedSource): GuardStructure {
  return { codec: decoded.codec, tagged: decoded.tagged, messageIndexes: view.writer.info.schemaType === 'PROTOBUF' };
}

function encode(decoded: DecodedSource, id: number, view: SourceView): Buffer {
  return encodeFrame(id, decoded.codec.encode(decoded.value), view.writer.messageIndexes);
}

export async function buildPayload(policy: DlqPolicy, failed: FailedRecord, ctx: PolicyContext): Promise<Candidate> {
  switch (policy) {
    case 'reference':
      return { value: null, headers: [] };
    case 'redacted': {
      const { view, decoded } = decodedOf(failed.view, policy);
      decoded.tagged?.(decoded.value, redactValue);
      const id = await ctx.schemas.redacted(ctx.topic, view.writer);
      return { value: encode(decoded, id, view), headers: [], structure: structureOf(view, decoded) };
    }
    case 'source': {
      const view = failed.view;
      if (view === undefined || !view.sourceFullyEncrypted) throw fail('payload source refused: a tagged field of the writer schema is not encrypted by its rules');
      const value = failed.record.value;
      if (value === null) throw fail('payload source of a record without a value');
      const idHeader = failed.record.headers.filter((h) => h.key === VALUE_SCHEMA_ID_HEADER).slice(-1);
      const structure = view.writer.payloadEncrypted || view.decoded === undefined ? undefined : structureOf(view, view.decoded);
      return { value, headers: idHeader, ...(structure ? { structure } : {}) };
    }
    case 'encrypted': {
      if (ctx.kek === undefined) throw fail('payload encrypted without dlq.kek');
      const { view, decoded } = decodedOf(failed.view, policy);
      const schema = await ctx.schemas.encrypted(ctx.topic, view.writer, decoded.codec, decoded.taggedFields, ctx.kek);
      const dek = await ctx.keys.dekForWrite(dekRefOf(schema.params, schema.subject), schema.params);
      schema.walker?.(decoded.value, encryptValue(dek.cipher));
      return { value: encode(decoded, schema.id, view), headers: [], structure: structureOf(view, decoded) };
    }
  }
}
