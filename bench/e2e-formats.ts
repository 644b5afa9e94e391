/**
 * The end-to-end suite's three formats: the Customer record (bench/customer.ts) as Avro, Protobuf and
 * JSON Schema, framed for a schema id, and Confluent's serdes for each with field encryption (what the
 * library baseline runs, and what reads every contender's output back). Avro records may carry an
 * untagged `notes` string of a given length (the record-size scale rows).
 */
import {
  AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, JsonDeserializer, JsonSerializer, LocalKmsDriver, ProtobufDeserializer,
  ProtobufSerializer, RuleRegistry, SchemaRegistryClient as OfficialClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { createMutableRegistry } from '@bufbuild/protobuf';
import avro from 'avsc';
import { createProtobufCodec } from '../src/formats/index.js';
import { encodeFrame } from '../src/wire/index.js';
import { messageRegistry, startSerializedFormatProxy } from '../test/integration/engine/proto-descriptors.js';
import { CUSTOMER_JSON_SCHEMA, CUSTOMER_PROTO, CUSTOMER_SCHEMA, type Customer } from './customer.js';
import { customerAt } from './e2e-data.js';

export const FORMATS = ['avro', 'protobuf', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export const SCHEMA_TYPE = { avro: 'AVRO', protobuf: 'PROTOBUF', json: 'JSON' } as const satisfies Record<Format, string>;

/** A Customer, with `notes` in the padded Avro variant. */
export type BenchRecord = Customer & { notes?: string };

/** The Avro Customer schema with an untagged `notes` string at the end. */
const PADDED_SCHEMA = (() => {
  const schema = JSON.parse(CUSTOMER_SCHEMA) as { fields: unknown[] };
  return JSON.stringify({ ...schema, fields: [...schema.fields, { name: 'notes', type: 'string' }] });
})();

export function schemaText(format: Format, notesLength = 0): string {
  if (notesLength > 0 && format !== 'avro') throw new Error('padded records are Avro only');
  return format === 'avro' ? (notesLength > 0 ? PADDED_SCHEMA : CUSTOMER_SCHEMA) : format === 'protobuf' ? CUSTOMER_PROTO : CUSTOMER_JSON_SCHEMA;
}

/** 64 KiB of printable filler; record i's notes are a slice of it at an offset of its own. */
const FILLER = (() => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ';
  let x = 0x2545f491;
  let out = '';
  for (let i = 0; i < 65_536; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
})();

/** Record #i of a source topic: customer #i, plus `notesLength` characters of notes (0: none). */
export function recordAt(i: number, notesLength = 0): BenchRecord {
  if (notesLength === 0) return customerAt(i);
  if (notesLength > FILLER.length) throw new Error(`notes of at most ${FILLER.length} characters`);
  const from = (i * 7919) % (FILLER.length - notesLength + 1);
  return { ...customerAt(i), notes: FILLER.slice(from, from + notesLength) };
}

/** Framed values of records [from, to) for a schema id. */
export type Encoder = (from: number, to: number) => Buffer[];

export function encoderFor(format: Format, schemaId: number, notesLength = 0): Encoder {
  switch (format) {
    case 'avro': {
      const type = avro.Type.forSchema(JSON.parse(schemaText('avro', notesLength)) as avro.Schema);
      return (from, to) => Array.from({ length: to - from }, (_, k) => encodeFrame(schemaId, type.toBuffer(recordAt(from + k, notesLength))));
    }
    case 'protobuf': {
      const type = createProtobufCodec({ schemaType: 'PROTOBUF', schema: CUSTOMER_PROTO }).messageType;
      return (from, to) => Array.from({ length: to - from }, (_, k) => encodeFrame(schemaId, type.encode(customerAt(from + k)).finish(), [0]));
    }
    case 'json':
      return (from, to) => Array.from({ length: to - from }, (_, k) => encodeFrame(schemaId, Buffer.from(JSON.stringify(customerAt(from + k)), 'utf8')));
  }
}

/** A decoded record as a plain object (protobuf-es gives int64 as bigint and carries its own keys). */
function plain(format: Format, decoded: unknown): BenchRecord {
  if (format !== 'protobuf') return { ...(decoded as BenchRecord) };
  const m = decoded as Record<string, unknown>;
  return { id: Number(m['id']), name: m['name'] as string, email: m['email'] as string, country: m['country'] as string, balance: m['balance'] as number };
}

export interface OfficialSerdes {
  /** Deserializes `value` read from topic `from` (decrypting), serializes it for topic `to` (encrypting per its rules). */
  transform(from: string, to: string, value: Buffer): Promise<Buffer>;
  /** Deserializes (and decrypts) `value` read from `topic`. */
  read(topic: string, value: Buffer): Promise<BenchRecord>;
  close(): Promise<void>;
}

/**
 * Whether the registry answers `format=serialized` for Protobuf schema `schemaId` with a serialized
 * FileDescriptorProto, as Confluent's does (recrypt's dev registry does since #25; an older one running
 * in a stack that was started before answers with the .proto text, and needs the proxy).
 */
export async function servesSerializedProtobuf(registryUrl: string, schemaId: number): Promise<boolean> {
  const response = await fetch(`${registryUrl.replace(/\/$/, '')}/schemas/ids/${schemaId}?format=serialized`);
  if (!response.ok) throw new Error(`registry: schema ${schemaId}: HTTP ${response.status}`);
  const { schema } = await response.json() as { schema?: string };
  return typeof schema === 'string' && !/\bsyntax\b|\bmessage\b/.test(schema);
}

/**
 * Confluent's deserializer and serializer of `format` with the FieldEncryptionExecutor and local-kms.
 * Protobuf goes through a proxy that serves `format=serialized` when the registry does not (`proxy`).
 */
export async function officialSerdes(format: Format, registryUrl: string, secret: string, proxyProtobuf = false): Promise<OfficialSerdes> {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const proxy = format === 'protobuf' && proxyProtobuf ? await startSerializedFormatProxy(registryUrl) : undefined;
  const client = new OfficialClient({ baseURLs: [proxy?.url ?? registryUrl], cacheCapacity: 1000 });
  const ruleConfig = { secret };
  const config = { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig };
  const [serializer, deserializer] = format === 'avro'
    ? [new AvroSerializer(client, SerdeType.VALUE, config, rules), new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules)]
    : format === 'json'
      ? [new JsonSerializer(client, SerdeType.VALUE, config, rules), new JsonDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules)]
      : [
        new ProtobufSerializer(client, SerdeType.VALUE, { ...config, registry: createMutableRegistry(messageRegistry(CUSTOMER_PROTO)) }, rules),
        new ProtobufDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules),
      ];
  return {
    transform: async (from, to, value) => serializer.serialize(to, await deserializer.deserialize(from, value)),
    read: async (topic, value) => plain(format, await deserializer.deserialize(topic, value)),
    close: async () => { await proxy?.close(); },
  };
}
