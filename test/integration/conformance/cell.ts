// One conformance "cell": a schema with CSFLE rules, wired to three implementations at once —
// Confluent's Go client (the oracle process), Confluent's JS serdes, and recrypt's engine — so a test
// checks every direction for the same values:
//   Go writes -> recrypt decrypts          -> Go and JS read the plaintext
//   Go writes -> recrypt re-encrypts (new KEK) -> Go and JS read
//   Go / JS write plaintext -> recrypt encrypts -> Go reads
// Subjects: `enc` (the rules), `plain` (none), `re` (the same rules under another KEK).
import { create, fromJson, toJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { AwsKmsDriver as OfficialAwsKmsDriver } from '@confluentinc/schemaregistry';
import { expect } from 'vitest';
import { AwsKmsDriver } from '../../../src/kms/index.js';
import type { Rule, RuleSet, SchemaMetadata } from '../../../src/registry/types.js';
import { officialSerdes, recryptEngine, register, sourceRecord } from '../helpers/csfle.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { expectNoSecrets, output, plain } from '../engine/harness.js';
import { messageDesc, messageRegistry } from '../engine/proto-descriptors.js';
import { toGo, type Format, type GoClient } from './go-client.js';

export const FORMATS = ['AVRO', 'PROTOBUF', 'JSON'] as const satisfies readonly Format[];
export const ALGORITHMS = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'] as const;
export const KMS_TYPES = ['local-kms', 'aws-kms'] as const;
export type KmsType = (typeof KMS_TYPES)[number];

export interface CellOptions {
  readonly format: Format;
  readonly schema: string;
  readonly rules: (kek: string) => Rule[];
  readonly metadata?: SchemaMetadata;
  /** Protobuf: the fully-qualified message name. */
  readonly typeName?: string;
  /** Registry URL for the JS Protobuf serdes (the format=serialized proxy). */
  readonly protoUrl?: string;
  readonly kms?: KmsType;
  /** Epoch-ms clock of recrypt's engines (DEK expiry); the Go client's is set with GoClient.setClock. */
  readonly clock?: () => number;
}

/** KMS parameters of an ENCRYPT rule: the local secret, or a key in moto. */
export function kmsParams(kms: KmsType, awsKeyArn: string): Record<string, string> {
  return kms === 'aws-kms'
    ? { 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': awsKeyArn }
    : { 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'conformance-key' };
}

export function encryptRule(name: string, kek: string, params: Record<string, string>, tags = ['PII'], onFailure = 'ERROR,ERROR'): Rule {
  return { name, kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags, onFailure, params: { 'encrypt.kek.name': kek, ...params } };
}

export interface Cell {
  readonly enc: string;
  readonly plain: string;
  readonly re: string;
  /** Go's JSON for a value (protojson for Protobuf). */
  goValue(value: unknown): unknown;
  /** The value as the JS serdes return it after a round trip. */
  jsExpected(value: unknown): unknown;
  goWrite(topic: string, value: unknown): Promise<Buffer>;
  goRead(topic: string, bytes: Buffer): Promise<unknown>;
  jsWrite(topic: string, value: unknown): Promise<Buffer>;
  jsRead(topic: string, bytes: Buffer): Promise<unknown>;
  recryptDecrypt(bytes: Buffer): Promise<Buffer>;
  recryptEncrypt(bytes: Buffer): Promise<Buffer>;
  recryptReencrypt(bytes: Buffer): Promise<Buffer>;
}

let officialAwsRegistered = false;

export async function createCell(url: string, go: GoClient, options: CellOptions): Promise<Cell> {
  const { format } = options;
  const enc = uniqueName('cf-enc');
  const plainTopic = uniqueName('cf-plain');
  const re = uniqueName('cf-re');
  const ruleSet = (kek: string): RuleSet => ({ domainRules: options.rules(kek) });
  const meta = options.metadata ? { metadata: options.metadata } : {};
  await register(url, `${enc}-value`, { schemaType: format, schema: options.schema, ruleSet: ruleSet(uniqueName('kek')), ...meta });
  await register(url, `${plainTopic}-value`, { schemaType: format, schema: options.schema });
  await register(url, `${re}-value`, { schemaType: format, schema: options.schema, ruleSet: ruleSet(uniqueName('kek')), ...meta });

  if (options.kms === 'aws-kms' && !officialAwsRegistered) {
    OfficialAwsKmsDriver.register();
    officialAwsRegistered = true;
  }
  const kms = [new AwsKmsDriver({ endpoint: stack.kmsEndpoint })];
  let desc: DescMessage | undefined;
  const serdeConfig: Record<string, unknown> = {};
  if (format === 'PROTOBUF') {
    const registry = messageRegistry(options.schema);
    desc = messageDesc(registry, options.typeName ?? '');
    serdeConfig['registry'] = registry;
  }
  const jsUrl = format === 'PROTOBUF' ? options.protoUrl ?? url : url;
  const jsOptions = options.clock ? { clock: options.clock } : {};
  const js = officialSerdes(jsUrl, format, serdeConfig, jsOptions);
  const toWire = (value: unknown): unknown => (desc ? create(desc, value as Record<string, unknown>) : structuredCopy(value));
  const engine = async (mode: 'encrypt' | 'decrypt' | 'reencrypt', target: string) =>
    (await recryptEngine(url, { mode, targetSubject: `${target}-value`, targetTopic: target, kms, ...(options.clock ? { clock: options.clock } : {}) })).transformer;
  const decrypt = await engine('decrypt', plainTopic);
  const encrypt = await engine('encrypt', enc);
  const reencrypt = await engine('reencrypt', re);
  let offset = 0;
  const run = async (t: typeof decrypt, topic: string, bytes: Buffer): Promise<Buffer> =>
    output((await t.process([sourceRecord(topic, bytes, offset++)]))[0]);

  const goValue = (value: unknown): unknown =>
    (desc ? toJson(desc, create(desc, value as Record<string, unknown>), { useProtoFieldName: true, alwaysEmitImplicit: true }) : toGo(value));
  return {
    enc, plain: plainTopic, re, goValue,
    jsExpected: (value) => plain(toWire(value)),
    goWrite: (topic, value) => go.serialize(format, topic, goValue(value), options.typeName),
    goRead: (topic, bytes) => go.deserialize(format, topic, bytes),
    jsWrite: async (topic, value) => Buffer.from(await js.serializer.serialize(topic, toWire(value))),
    jsRead: async (topic, bytes) => plain(await officialSerdes(jsUrl, format, serdeConfig, jsOptions).deserializer.deserialize(topic, bytes)),
    recryptDecrypt: (bytes) => run(decrypt, enc, bytes),
    recryptEncrypt: (bytes) => run(encrypt, plainTopic, bytes),
    recryptReencrypt: (bytes) => run(reencrypt, enc, bytes),
  };
}

/** Go's protojson back to a protobuf-es message, for the JS side of a comparison. */
export function fromGoProto(desc: DescMessage, json: unknown): unknown {
  return plain(fromJson(desc, json as JsonValue));
}

/** The official serdes rewrite values in place: each call gets its own copy (Buffers kept). */
function structuredCopy(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(structuredCopy);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCopy(v)]));
  return value;
}

export interface DirectionOptions {
  /** Strings that must not appear in any ciphertext record. */
  readonly secrets?: readonly string[];
  /** Check the JS serdes too (false where the JS client is known not to handle the schema). */
  readonly js?: boolean;
  /** Check the Go client (false where it is known not to handle the schema: go-client-pins.test.ts). */
  readonly go?: boolean;
}

/**
 * Every direction for one value. Returns the ciphertexts (Go's and recrypt's) for further checks.
 */
export async function expectAllDirections(cell: Cell, value: unknown, options: DirectionOptions = {}): Promise<{ goCipher: Buffer; recryptCipher: Buffer }> {
  const secrets = options.secrets ?? [];
  const checkJs = options.js ?? true;
  if (options.go === false) return jsDirections(cell, value, secrets);
  const wantGo = cell.goValue(value);
  const wantJs = cell.jsExpected(value);

  // Go writes -> recrypt decrypts -> Go and JS read.
  const goCipher = await cell.goWrite(cell.enc, value);
  expectNoSecrets(goCipher, secrets);
  const plainBytes = await cell.recryptDecrypt(goCipher);
  expect(await cell.goRead(cell.plain, plainBytes), 'Go writes, recrypt decrypts, Go reads').toEqual(wantGo);
  if (checkJs) expect(await cell.jsRead(cell.plain, plainBytes), 'Go writes, recrypt decrypts, JS reads').toEqual(wantJs);

  // Go writes -> recrypt re-encrypts under another KEK -> Go and JS read.
  const reCipher = await cell.recryptReencrypt(goCipher);
  expectNoSecrets(reCipher, secrets);
  expect(await cell.goRead(cell.re, reCipher), 'Go writes, recrypt re-encrypts, Go reads').toEqual(wantGo);
  if (checkJs) expect(await cell.jsRead(cell.re, reCipher), 'Go writes, recrypt re-encrypts, JS reads').toEqual(wantJs);

  // Plaintext (Go's serializer) -> recrypt encrypts -> Go reads, and JS too.
  const recryptCipher = await cell.recryptEncrypt(await cell.goWrite(cell.plain, value));
  expectNoSecrets(recryptCipher, secrets);
  expect(await cell.goRead(cell.enc, recryptCipher), 'recrypt encrypts, Go reads').toEqual(wantGo);
  if (checkJs) {
    expect(await cell.jsRead(cell.enc, recryptCipher), 'recrypt encrypts, JS reads').toEqual(wantJs);
    // Plaintext from the JS serializer -> recrypt encrypts -> Go reads.
    const fromJs = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(await cell.goRead(cell.enc, fromJs), 'JS plaintext, recrypt encrypts, Go reads').toEqual(wantGo);
  }
  return { goCipher, recryptCipher };
}

/** The JS serdes and recrypt alone, every direction (for shapes the Go client cannot handle). */
async function jsDirections(cell: Cell, value: unknown, secrets: readonly string[]): Promise<{ goCipher: Buffer; recryptCipher: Buffer }> {
  const want = cell.jsExpected(value);
  const jsCipher = await cell.jsWrite(cell.enc, value);
  expectNoSecrets(jsCipher, secrets);
  expect(await cell.jsRead(cell.plain, await cell.recryptDecrypt(jsCipher)), 'JS writes, recrypt decrypts, JS reads').toEqual(want);
  const reCipher = await cell.recryptReencrypt(jsCipher);
  expectNoSecrets(reCipher, secrets);
  expect(await cell.jsRead(cell.re, reCipher), 'JS writes, recrypt re-encrypts, JS reads').toEqual(want);
  const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
  expectNoSecrets(recryptCipher, secrets);
  expect(await cell.jsRead(cell.enc, recryptCipher), 'recrypt encrypts, JS reads').toEqual(want);
  return { goCipher: jsCipher, recryptCipher };
}
