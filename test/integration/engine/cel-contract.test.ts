// A data contract of CEL + CEL_FIELD + ENCRYPT rules, against Confluent's official JS serdes with
// CelExecutor, CelFieldExecutor and FieldEncryptionExecutor registered, for Avro, Protobuf and JSON
// Schema: what the official serializer writes through the contract is read by recrypt (decrypt), recrypt's
// re-encrypted and encrypted output is read by the official deserializer, field for field.
//
// The contract, in list order:
//   positive  CEL CONDITION       message.amount > 0.0                      (WRITEREAD)
//   mask      CEL_FIELD TRANSFORM  ssn -> first three characters + mask     (WRITEREAD, tag PII, before ENCRYPT)
//   enc       ENCRYPT on PII
//   sealed    CEL_FIELD CONDITION  ssn is no longer the masked text          (WRITE, tag PII, after ENCRYPT: sees ciphertext)
//   seen      CEL_FIELD TRANSFORM  note := what message.ssn looks like       (WRITE, after ENCRYPT; Avro and JSON)
//
// Where the official JS client cannot evaluate (a CEL `message` that is a protobuf-es message is
// "Unsupported input", and the condition then passes: fail-open), recrypt follows Go and evaluates; the
// Protobuf action test therefore checks recrypt alone.
import { create, type DescMessage } from '@bufbuild/protobuf';
import {
  AvroDeserializer, AvroSerializer, CelExecutor, CelFieldExecutor, FieldEncryptionExecutor, JsonDeserializer, JsonSerializer,
  LocalKmsDriver, ProtobufDeserializer, ProtobufSerializer, RuleRegistry, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule, RuleSet } from '../../../src/registry/types.js';
import { LOCAL_SECRET, encryptRule, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { errorText, expectNoSecrets, haltOf, output, plain, type Format } from './harness.js';
import { messageDesc, messageRegistry, startSerializedFormatProxy, type Proxy } from './proto-descriptors.js';

let registry: TestRegistry;
let proxy: Proxy;
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
});
afterAll(async () => {
  await proxy.close();
  await registry.close();
});

const AVRO = JSON.stringify({
  type: 'record', name: 'Order', namespace: 'shop',
  fields: [
    { name: 'ssn', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'note', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'qty', type: 'long' },
    { name: 'flag', type: 'boolean' },
  ],
});
const JSON_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: 'Order', type: 'object',
  properties: {
    ssn: { type: 'string', 'confluent:tags': ['PII'] },
    email: { type: 'string', 'confluent:tags': ['PII'] },
    note: { type: 'string' },
    amount: { type: 'number' },
    qty: { type: 'integer' },
    flag: { type: 'boolean' },
  },
});
const PROTO = `syntax = "proto3";
package shop;
import "confluent/meta.proto";
message Order {
  string ssn = 1 [(confluent.field_meta).tags = "PII"];
  string email = 2 [(confluent.field_meta).tags = "PII"];
  string note = 3;
  double amount = 4;
  int64 qty = 5;
  bool flag = 6;
}
`;
const SCHEMAS: Record<Format, string> = { AVRO, JSON: JSON_SCHEMA, PROTOBUF: PROTO };

const SSN = '123-45-6789';
const EMAIL = 'canary-mail@example.com';
const order = (amount = 10.5) => ({ ssn: SSN, email: EMAIL, note: 'n', amount, qty: 3, flag: true });

const cel = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, type: 'CEL', kind: 'CONDITION', mode: 'WRITEREAD', expr, ...extra });
const celField = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, type: 'CEL_FIELD', kind: 'TRANSFORM', mode: 'WRITEREAD', expr, ...extra });

function contract(format: Format, kek: string, onFailure = 'ERROR'): RuleSet {
  const rules: Rule[] = [
    cel('positive', 'message.amount > 0.0', { onFailure }),
    celField('mask', "name == 'ssn' ; value.substring(0, 3) + '-**-****'", { tags: ['PII'] }),
    encryptRule('enc', kek),
    celField('sealed', "name == 'ssn' ; !value.contains('-**-')", { kind: 'CONDITION', mode: 'WRITE', tags: ['PII'] }),
  ];
  if (format !== 'PROTOBUF') rules.push(celField('seen', "name == 'note' ; message.ssn.contains('-**-') ? 'plain' : 'cipher'", { mode: 'WRITE' }));
  return { domainRules: rules };
}

/** The official serdes with the CEL executors as well as field encryption, on their own executor registry. */
function officialSerdes(format: Format) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  rules.registerExecutor(new CelExecutor());
  rules.registerExecutor(new CelFieldExecutor());
  const url = format === 'PROTOBUF' ? protoUrl ?? proxy.url : registry.url;
  const client = new SchemaRegistryClient({ baseURLs: [url], cacheCapacity: 1000 });
  const ruleConfig = { secret: LOCAL_SECRET };
  const extra: Record<string, unknown> = format === 'PROTOBUF' ? { registry: messageRegistry(PROTO) } : {};
  const ser: Record<string, unknown> = { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig, ...extra };
  const de = { ruleConfig };
  switch (format) {
    case 'AVRO':
      return { serializer: new AvroSerializer(client, SerdeType.VALUE, ser, rules), deserializer: new AvroDeserializer(client, SerdeType.VALUE, de, rules) };
    case 'PROTOBUF':
      return { serializer: new ProtobufSerializer(client, SerdeType.VALUE, ser, rules), deserializer: new ProtobufDeserializer(client, SerdeType.VALUE, de, rules) };
    case 'JSON':
      return { serializer: new JsonSerializer(client, SerdeType.VALUE, ser, rules), deserializer: new JsonDeserializer(client, SerdeType.VALUE, de, rules) };
  }
}

/**
 * Where the official Protobuf serdes look schemas up: the dev registry itself once it answers
 * `format=serialized` (issue #25's registry item), else the converting proxy in front of it.
 */
let protoUrl: string | undefined;
async function pickProtoUrl(id: number): Promise<void> {
  if (protoUrl !== undefined) return;
  const res = await fetch(`${registry.url}/schemas/ids/${id}?format=serialized`);
  const body = (await res.json()) as { schema?: string };
  protoUrl = typeof body.schema === 'string' && body.schema.includes('syntax') ? proxy.url : registry.url;
}

let desc: DescMessage | undefined;
function toWire(format: Format, value: ReturnType<typeof order>): unknown {
  if (format !== 'PROTOBUF') return { ...value };
  desc ??= messageDesc(messageRegistry(PROTO), 'shop.Order');
  return create(desc, { ...value, qty: BigInt(value.qty) });
}

/** Decoded values compared field for field: Protobuf's int64 is a bigint in protobuf-es, Avro's long a number. */
function fields(value: unknown): Record<string, unknown> {
  const p = plain(value) as Record<string, unknown>;
  return { ...p, qty: Number(p['qty']) };
}

async function subjects(format: Format, onFailure = 'ERROR') {
  const topics = { enc: uniqueName('cel-enc'), enc2: uniqueName('cel-enc2'), plain: uniqueName('cel-plain') };
  const schemaType = format;
  const schema = SCHEMAS[format];
  await register(registry.url, `${topics.enc}-value`, { schemaType, schema, ruleSet: contract(format, uniqueName('kek'), onFailure) });
  await register(registry.url, `${topics.enc2}-value`, { schemaType, schema, ruleSet: contract(format, uniqueName('kek2'), onFailure) });
  const id = await register(registry.url, `${topics.plain}-value`, { schemaType, schema });
  if (format === 'PROTOBUF') await pickProtoUrl(id);
  return topics;
}

describe.each(['AVRO', 'JSON', 'PROTOBUF'] as const)('CEL + CEL_FIELD + ENCRYPT with the official serdes (%s)', (format) => {
  it('the official writer through the contract, recrypt decrypts, re-encrypts and encrypts: the official reader agrees field for field', async () => {
    const topics = await subjects(format);
    const official = officialSerdes(format);
    const written = await official.serializer.serialize(topics.enc, toWire(format, order()));
    expectNoSecrets(written, [SSN, '123-**-****', EMAIL]);
    const reference = fields(await officialSerdes(format).deserializer.deserialize(topics.enc, written));
    // The mask ran before ENCRYPT (plaintext in, masked text encrypted); the after-rules saw ciphertext.
    expect(reference).toMatchObject({ ssn: '123-**-****', email: EMAIL, amount: 10.5, qty: 3, flag: true, note: format === 'PROTOBUF' ? 'n' : 'cipher' });

    const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${topics.plain}-value`, targetTopic: topics.plain });
    const plainOut = output((await decrypt.transformer.process([sourceRecord(topics.enc, written)]))[0]);
    expect(fields(await officialSerdes(format).deserializer.deserialize(topics.plain, plainOut))).toEqual(reference);

    const reencrypt = await recryptEngine(registry.url, { mode: 'reencrypt', targetSubject: `${topics.enc2}-value`, targetTopic: topics.enc2 });
    const reOut = output((await reencrypt.transformer.process([sourceRecord(topics.enc, written, 1)]))[0]);
    expectNoSecrets(reOut, [SSN, '123-**-****', EMAIL]);
    expect(fields(await officialSerdes(format).deserializer.deserialize(topics.enc2, reOut))).toEqual(reference);

    // Plaintext in, the contract applied by recrypt alone: the same record as the official writer's.
    const plainIn = await official.serializer.serialize(topics.plain, toWire(format, order()));
    const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${topics.enc}-value`, targetTopic: topics.enc });
    const encOut = output((await encrypt.transformer.process([sourceRecord(topics.plain, plainIn, 2)]))[0]);
    expectNoSecrets(encOut, [SSN, '123-**-****', EMAIL]);
    expect(fields(await officialSerdes(format).deserializer.deserialize(topics.enc, encOut))).toEqual(reference);
  });

  it('a failing condition with onFailure ERROR: the official writer refuses the record, recrypt halts; no record value in the error', async () => {
    const topics = await subjects(format);
    const official = officialSerdes(format);
    if (format !== 'PROTOBUF') await expect(official.serializer.serialize(topics.enc, toWire(format, order(-1)))).rejects.toThrow();
    const plainIn = await official.serializer.serialize(topics.plain, { ...toWire(format, { ...order(-1), email: 'CANARY-7731@example.com' }) as object });
    const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${topics.enc}-value`, targetTopic: topics.enc });
    const halt = haltOf((await encrypt.transformer.process([sourceRecord(topics.plain, plainIn)]))[0]);
    expect(halt.code).toBe('RULE_CONDITION_FAILED');
    expect(halt.message).toMatch(/rule positive/);
    expect(errorText(halt)).not.toMatch(/CANARY-7731|123-45/);
  });

  it('a failing condition with onFailure NONE: both writers let the record through, the same record', async () => {
    const topics = await subjects(format, 'NONE');
    const official = officialSerdes(format);
    const plainIn = await official.serializer.serialize(topics.plain, toWire(format, order(-1)));
    const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${topics.enc}-value`, targetTopic: topics.enc });
    const encOut = output((await encrypt.transformer.process([sourceRecord(topics.plain, plainIn)]))[0]);
    expectNoSecrets(encOut, [SSN, '123-**-****', EMAIL]);
    const recrypt = fields(await officialSerdes(format).deserializer.deserialize(topics.enc, encOut));
    expect(recrypt).toMatchObject({ ssn: '123-**-****', email: EMAIL, amount: -1 });
    const written = await official.serializer.serialize(topics.enc, toWire(format, order(-1)));
    expect(fields(await officialSerdes(format).deserializer.deserialize(topics.enc, written))).toEqual(recrypt);
  });
});
