/**
 * `recrypt inspect`: one record, decoded. Framing, schema, key length and header names, the writer
 * schema's ENCRYPT rules, and each string/bytes field occurrence: fields an ENCRYPT rule covers are
 * shown as (truncated) ciphertext with their DEK version, algorithm and KEK; other fields by length
 * only. Values are decrypted only on request (`decrypt: true`): the DEKs through keys/ (and so the KMS),
 * the values with engine/'s field decryption, as the transform does it.
 */
import {
  compileSide, DEK_MISSING, decryptEncoded, decryptField, SchemaStore, sourceSubject,
  type CipherFor, type FieldStep, type LoadedSchema, type SubjectNameStrategy,
} from '../engine/index.js';
import type { FieldInfo } from '../formats/index.js';
import type { KafkaConnection } from '../kafka/connection.js';
import type { DekManager } from '../keys/index.js';
import type { SchemaRegistryApi } from '../registry/types.js';
import { errorCodeOf, isTransient, RecryptError } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';
import { frameOf, isIdRef, locate, type Located } from '../wire/index.js';
import { coverageOf, fieldSteps } from './coverage.js';
import { classifyValue } from './detect.js';
import type { RuleCoverage } from './report.js';
import { TopicReader } from './topic-reader.js';

export interface InspectOptions {
  readonly connection: KafkaConnection;
  readonly schemaRegistry: SchemaRegistryApi;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly subjectNameStrategy: SubjectNameStrategy;
  /** Given only for --decrypt: the one way DEKs are had (keys/'s DekManager). */
  readonly keys?: Pick<DekManager, 'dekForRead'>;
}

export interface InspectedField {
  readonly field: string;
  readonly kind: string;
  /** Rule whose walker covers the field (read side), if any. */
  readonly rule?: string;
  readonly status: 'ciphertext' | 'plaintext' | 'null' | 'untagged';
  readonly reason?: string;
  /** Length in bytes (strings: UTF-8 of the stored text). */
  readonly bytes?: number;
  /** Ciphertext, standard base64, truncated. Only for covered fields. */
  readonly ciphertext?: string;
  readonly kek?: string;
  readonly algorithm?: string;
  readonly dekVersion?: number;
  /** Only with decryption requested. */
  decrypted?: unknown;
  decryptError?: string;
}

export interface InspectResult {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly keyBytes: number | null;
  readonly valueBytes: number | null;
  readonly headers: readonly string[];
  readonly framing?: { readonly magic: number; readonly idSource: string; readonly schemaId?: number; readonly guid?: string; readonly messageIndexes?: readonly number[] };
  readonly schema?: { readonly id: number; readonly type: string; readonly subject: string };
  readonly rules: readonly RuleCoverage[];
  readonly fields: readonly InspectedField[];
  readonly payloadEncrypted?: { readonly rule: string; readonly kek: string; readonly algorithm: string; readonly bytes: number };
  /** The whole decrypted value (only when decryption was requested and succeeded). */
  decryptedValue?: unknown;
  /** Why the value could not be decoded (an error code), if it could not. */
  readonly error?: string;
}

const SHOWN_CIPHERTEXT = 24;
/** An ENCRYPT_PAYLOAD payload, decrypted as the kernel does it: as a bytes field. */
const PAYLOAD_FIELD: FieldInfo = { name: '(payload)', fullName: '(payload)', inlineTags: [], kind: 'bytes' };

type ReadCipher = NonNullable<ReturnType<CipherFor>>;

export async function readOneRecord(connection: KafkaConnection, topic: string, partition: number, offset: number): Promise<SourceRecord | null> {
  const reader = new TopicReader({ connection, topic, partitions: [partition], batchSize: 1 });
  try {
    await reader.open();
    const [range] = await reader.resolve({ kind: 'offset', offset }, { kind: 'end' });
    if (range === undefined || range.from !== offset || range.from >= range.to) return null;
    let found: SourceRecord | null = null;
    await reader.read([{ partition, from: offset, to: offset + 1 }], (records) => {
      found = records.find((r) => r.offset === offset) ?? found;
    });
    return found;
  } finally {
    await reader.close();
  }
}

export async function inspectRecord(options: InspectOptions): Promise<InspectResult | null> {
  const record = await readOneRecord(options.connection, options.topic, options.partition, options.offset);
  if (record === null) return null;
  return inspectSourceRecord(record, options);
}

export async function inspectSourceRecord(record: SourceRecord, options: Pick<InspectOptions, 'schemaRegistry' | 'subjectNameStrategy' | 'keys'>): Promise<InspectResult> {
  const base = {
    topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
    keyBytes: record.key === null ? null : record.key.length, valueBytes: record.value === null ? null : record.value.length,
    headers: record.headers.map((h) => h.key),
  };
  const schemas = new SchemaStore(options.schemaRegistry);
  // The value's framing is read once: the schema reference here, the message indexes below.
  let located: Located | null;
  let writer: LoadedSchema;
  try {
    located = locate(record, 'value');
    if (located === null) return { ...base, rules: [], fields: [] };
    writer = await schemas.load(located.ref);
  } catch (err) {
    if (isTransient(err)) throw err;
    return { ...base, rules: [], fields: [], error: errorCodeOf(err) };
  }
  const isProtobuf = writer.schemaType === 'PROTOBUF';
  const frame = frameOf(located, isProtobuf);
  const framing = {
    magic: (located.header ?? located.bytes)[0]!, idSource: frame.idSource,
    ...(isIdRef(frame.schemaRef) ? { schemaId: frame.schemaRef.id } : { guid: frame.schemaRef.guid }),
    ...(frame.indexes ? { messageIndexes: frame.indexes } : {}),
  };
  const subject = sourceSubject(options.subjectNameStrategy, record.topic, writer, false);
  const codec = schemas.codec(writer, isProtobuf ? frame.indexes ?? [0] : undefined);
  const read = compileSide(writer, codec, 'read', subject, isProtobuf ? frame.indexes ?? [0] : undefined);
  const result = { ...base, framing, schema: { id: writer.id, type: writer.schemaType, subject }, rules: coverageOf(read) };
  const keys = options.keys;

  let payload: Buffer = frame.payload;
  const payloadStep = read.encoding.find((s) => s.kind === 'payload');
  if (payloadStep !== undefined && payloadStep.kind === 'payload') {
    const { kekName, algorithm, expiryDays } = payloadStep.params;
    const payloadEncrypted = { rule: payloadStep.rule.name, kek: kekName, algorithm, bytes: payload.length };
    if (keys === undefined) return { ...result, fields: [], payloadEncrypted };
    try {
      payload = await decryptPayload(payload, expiryDays > 0, (version) => keys.dekForRead(payloadStep.dek, payloadStep.params, version));
    } catch (err) {
      if (isTransient(err)) throw err;
      return { ...result, fields: [], payloadEncrypted, error: errorCodeOf(err) };
    }
  }

  let value: unknown;
  try {
    value = codec.decode(payload);
  } catch (err) {
    return { ...result, fields: [], error: errorCodeOf(err) };
  }

  // Every string/bytes occurrence, with the first read step (outermost encryption) that covers it.
  const steps = fieldSteps(read);
  const coveredBy = new Map<string, FieldStep>();
  for (const step of steps) {
    if (step.walker === null) continue;
    step.walker(value, (v, field) => {
      if (!coveredBy.has(field.fullName)) coveredBy.set(field.fullName, step);
      return v;
    });
  }
  const fields: InspectedField[] = [];
  const all = codec.compileWalker((f) => f.kind !== 'other');
  all?.(value, (v, field) => {
    fields.push(describe(v, field, coveredBy.get(field.fullName)));
    return v;
  });

  if (keys === undefined) return { ...result, fields };
  // Decrypt in read order: each step over the value the previous steps left.
  for (const step of steps) {
    if (step.walker === null) continue;
    const { algorithm, expiryDays } = step.params;
    const versions = new Set<number>();
    step.walker(value, (v) => {
      const c = classifyValue(v, algorithm, expiryDays > 0);
      if (c.kind === 'ciphertext') versions.add(c.version);
      return v;
    });
    const ciphers = new Map<number, ReadCipher | RecryptError>();
    for (const version of versions) {
      try {
        ciphers.set(version, await keys.dekForRead(step.dek, step.params, version));
      } catch (err) {
        if (isTransient(err)) throw err;
        ciphers.set(version, err instanceof RecryptError ? err : new RecryptError('INTERNAL', 'DEK lookup failed', { cause: err }));
      }
    }
    const missing = { version: 0 };
    const cipherFor: CipherFor = (version) => {
      const cipher = ciphers.get(version === 0 ? 1 : version);
      if (cipher instanceof RecryptError) throw cipher;
      if (cipher === undefined) missing.version = version;
      return cipher;
    };
    value = step.walker(value, (v, field) => {
      try {
        const plain = decryptField(v, field, expiryDays > 0, cipherFor);
        if (plain === DEK_MISSING) throw new RecryptError('DEK_NOT_FOUND', `DEK version ${missing.version} not available`);
        return plain;
      } catch (err) {
        const entry = fields.find((f) => f.field === field.fullName && f.rule !== undefined && f.decryptError === undefined);
        if (entry) entry.decryptError = errorCodeOf(err);
        return v;
      }
    });
  }
  // The walk visits occurrences in the same order as before: attach the plaintexts.
  let i = 0;
  all?.(value, (v) => {
    const f = fields[i++];
    if (f !== undefined && f.status === 'ciphertext' && f.decryptError === undefined) f.decrypted = v;
    return v;
  });
  return { ...result, fields, decryptedValue: value };
}

function describe(value: unknown, field: FieldInfo, step: FieldStep | undefined): InspectedField {
  const base = { field: field.fullName, kind: field.kind };
  const bytes = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value instanceof Uint8Array ? value.length : undefined;
  if (step === undefined) return { ...base, status: value === null || value === undefined ? 'null' : 'untagged', ...(bytes === undefined ? {} : { bytes }) };
  const { kekName, algorithm, expiryDays } = step.params;
  const c = classifyValue(value, algorithm, expiryDays > 0);
  const common = { ...base, rule: step.rule.name, kek: kekName, algorithm, ...(bytes === undefined ? {} : { bytes }) };
  if (c.kind === 'null') return { ...common, status: 'null' };
  if (c.kind === 'plaintext') return { ...common, status: 'plaintext', reason: c.reason };
  const text = typeof value === 'string' ? value : base64Of(value as Uint8Array);
  return {
    ...common, status: 'ciphertext', dekVersion: c.version,
    ciphertext: text.length > SHOWN_CIPHERTEXT ? `${text.slice(0, SHOWN_CIPHERTEXT)}...` : text,
  };
}

/** A bytes field's ciphertext as shown: standard base64, as a string field stores it. */
function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decrypts an ENCRYPT_PAYLOAD payload with engine/'s decryption: a first pass without a cipher says which
 * DEK version the ciphertext names (DEK_MISSING), `fetch` gets it, the second pass decrypts.
 */
async function decryptPayload(payload: Buffer, versioned: boolean, fetch: (version: number) => Promise<ReadCipher>): Promise<Buffer> {
  const needed = { version: 1 };
  const probe = decryptEncoded(payload, PAYLOAD_FIELD, versioned, (version) => {
    needed.version = version;
    return undefined;
  });
  if (probe !== DEK_MISSING) throw new RecryptError('INTERNAL', 'payload decryption asked for no DEK');
  const cipher = await fetch(needed.version);
  const plaintext = decryptEncoded(payload, PAYLOAD_FIELD, versioned, () => cipher);
  if (plaintext === null || plaintext === DEK_MISSING) throw new RecryptError('INTERNAL', 'payload decryption returned no plaintext');
  return plaintext;
}

/** JSON for printing decoded values: bytes as base64, bigints as strings. */
export function valueToJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { base64: Buffer.from((v as { data: number[] }).data).toString('base64') };
    }
    return v;
  }, 2);
}
