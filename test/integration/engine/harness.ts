// Shared by the engine compatibility tests: one "pair" of subjects (an encrypted one with rules, a plain
// one without) with recrypt's engines and Confluent's official serdes wired to both, so a test can check
// both directions for a value: official encrypt -> recrypt decrypt, and recrypt encrypt -> official
// decrypt. Protobuf goes through a proxy that serves `format=serialized` (see proto-descriptors.ts).
import { create, type DescMessage } from '@bufbuild/protobuf';
import { expect } from 'vitest';
import type { ProcessedRecord } from '../../../src/kafka/types.js';
import type { RuleSet, SchemaInfo, SchemaMetadata as Metadata } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { officialSerdes, recryptEngine, register, sourceRecord } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { messageDesc, messageRegistry } from './proto-descriptors.js';

export type Format = 'AVRO' | 'PROTOBUF' | 'JSON';
export const ALGORITHMS = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'] as const;

export function output(result: ProcessedRecord | undefined): Buffer {
  if (result === undefined) throw new Error('no result');
  if (!('outputs' in result)) throw result.halt;
  return result.outputs[0]!.value!;
}

export function haltOf(result: ProcessedRecord | undefined): RecryptError {
  if (result === undefined || !('halt' in result)) throw new Error('expected a halt');
  return result.halt;
}

/** Everything an error would show in a log: messages, codes and causes, recursively. */
export function errorText(err: unknown, depth = 0): string {
  if (depth > 8 || err === undefined || err === null) return '';
  if (err instanceof Error) {
    const code = err instanceof RecryptError ? err.code : '';
    return `${code} ${err.name} ${err.message} ${String(err)} ${errorText(err.cause, depth + 1)}`;
  }
  return String(err);
}

/** A comparable form of decoded values: plain objects, Buffers for bytes, no protobuf-es `$typeName`. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [k, plain(v)]));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== '$typeName' && v !== undefined) out[k] = plain(v);
    return out;
  }
  return value;
}

export interface PairOptions {
  readonly format: Format;
  readonly schema: string;
  readonly ruleSet?: RuleSet;
  readonly metadata?: Metadata;
  /** Protobuf: fully-qualified name of the message to serialize. */
  readonly typeName?: string;
  readonly clock?: () => number;
  /** Registry URL for the official Protobuf serdes (the format=serialized proxy). */
  readonly protoUrl?: string;
}

export interface Pair {
  readonly encTopic: string;
  readonly plainTopic: string;
  /** Official serializer encrypts, recrypt decrypts; returns the official ciphertext record and recrypt's plain output. */
  officialToRecrypt(value: unknown, secrets?: readonly string[]): Promise<{ encrypted: Buffer; decrypted: unknown }>;
  /** recrypt encrypts a plain record, the official deserializer decrypts. */
  recryptToOfficial(value: unknown, secrets?: readonly string[]): Promise<{ encrypted: Buffer; decrypted: unknown }>;
  /** The value as the official serdes see it after a round trip (protobuf-es defaults filled in). */
  expected(value: unknown): unknown;
  /** The value as the official serializer takes it (a protobuf-es message for Protobuf). */
  toWire(value: unknown): unknown;
  official(): ReturnType<typeof officialSerdes>;
}

export function expectNoSecrets(bytes: Buffer, secrets: readonly string[]): void {
  for (const s of secrets) {
    if (s.length >= 6) expect(bytes.includes(Buffer.from(s, 'utf8')), `plaintext ${JSON.stringify(s)} in ciphertext record`).toBe(false);
  }
}

export async function createPair(url: string, options: PairOptions): Promise<Pair> {
  const { format } = options;
  const encTopic = uniqueName('enc');
  const plainTopic = uniqueName('plain');
  const schemaType = format;
  const enc: SchemaInfo = {
    schemaType, schema: options.schema,
    ...(options.ruleSet ? { ruleSet: options.ruleSet } : {}), ...(options.metadata ? { metadata: options.metadata } : {}),
  };
  await register(url, `${encTopic}-value`, enc);
  await register(url, `${plainTopic}-value`, { schemaType, schema: options.schema });
  const officialUrl = format === 'PROTOBUF' ? options.protoUrl ?? url : url;
  let desc: DescMessage | undefined;
  const serdeConfig: Record<string, unknown> = {};
  if (format === 'PROTOBUF') {
    const registry = messageRegistry(options.schema);
    desc = messageDesc(registry, options.typeName ?? '');
    serdeConfig['registry'] = registry;
  }
  const clockOpt = options.clock ? { clock: options.clock } : {};
  const official = (): ReturnType<typeof officialSerdes> => officialSerdes(officialUrl, format, serdeConfig, clockOpt);
  const toWire = (value: unknown): unknown => (desc ? create(desc, value as Record<string, unknown>) : structuredCloneish(value));
  const decrypt = await recryptEngine(url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic, ...clockOpt });
  const encrypt = await recryptEngine(url, { mode: 'encrypt', targetSubject: `${encTopic}-value`, targetTopic: encTopic, ...clockOpt });
  let offset = 0;
  const writer = official();
  return {
    encTopic, plainTopic, official, toWire,
    expected: (value) => plain(toWire(value)),
    async officialToRecrypt(value, secrets = []) {
      const encrypted = await writer.serializer.serialize(encTopic, toWire(value));
      expectNoSecrets(encrypted, secrets);
      const out = output((await decrypt.transformer.process([sourceRecord(encTopic, encrypted, offset++)]))[0]);
      const decrypted = plain(await official().deserializer.deserialize(plainTopic, out));
      return { encrypted, decrypted };
    },
    async recryptToOfficial(value, secrets = []) {
      const plainBytes = await writer.serializer.serialize(plainTopic, toWire(value));
      const encrypted = output((await encrypt.transformer.process([sourceRecord(plainTopic, plainBytes, offset++)]))[0]);
      expectNoSecrets(encrypted, secrets);
      const decrypted = plain(await official().deserializer.deserialize(encTopic, encrypted));
      return { encrypted, decrypted };
    },
  };
}

/** The official serdes rewrite values in place: give each call its own copy (Buffers kept as Buffers). */
function structuredCloneish(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(structuredCloneish);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCloneish(v)]));
  }
  return value;
}

/** Both directions for one value, each compared with the original. */
export async function expectBothWays(pair: Pair, value: unknown, secrets: readonly string[] = []): Promise<void> {
  const want = pair.expected(value);
  const a = await pair.officialToRecrypt(value, secrets);
  expect(a.decrypted).toEqual(want);
  const b = await pair.recryptToOfficial(value, secrets);
  expect(b.decrypted).toEqual(want);
}
