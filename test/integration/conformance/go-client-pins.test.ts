// Where Confluent's Go client (confluent-kafka-go v2.11.1, schemaregistry serdes) does not do what the
// CSFLE rules say, these tests pin its actual behaviour next to recrypt's (which follows the rules and
// the Java client): when the Go client is fixed, a test here fails and the README's compatibility
// section must be updated. Each case: what Go does, and that recrypt's records for the same value are
// right (read back by recrypt itself, or by the JS serdes where they handle the shape).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SECRET, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { haltOf } from '../engine/harness.js';
import { startSerializedFormatProxy, type Proxy } from '../engine/proto-descriptors.js';
import { recryptEngine, sourceRecord } from '../helpers/csfle.js';
import { createCell, encryptRule, kmsParams, type Cell } from './cell.js';
import { GoClient, toGo, type Format } from './go-client.js';

let registry: TestRegistry;
let proxy: Proxy;
let go: GoClient;
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
  go = new GoClient(registry.url, { LOCAL_SECRET });
});
afterAll(async () => {
  await go?.close();
  await proxy?.close();
  await registry?.close();
});

const PII = { 'confluent:tags': ['PII'] };

async function cellFor(format: Format, schema: string, typeName?: string): Promise<Cell> {
  return createCell(registry.url, go, {
    format, schema, protoUrl: proxy.url, ...(typeName ? { typeName } : {}),
    rules: (kek) => [encryptRule('encryptPII', kek, { ...kmsParams('local-kms', ''), 'encrypt.dek.algorithm': 'AES256_GCM' })],
  });
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the Go client to fail');
}

/** recrypt's decrypt of `bytes` (from the enc subject) halts, and says nothing of the plaintext. */
async function recryptRefusesToDecrypt(cell: Cell, bytes: Buffer, plaintext: string): Promise<void> {
  const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${cell.plain}-value`, targetTopic: cell.plain });
  const halt = haltOf((await decrypt.transformer.process([sourceRecord(cell.enc, bytes)]))[0]);
  expect(halt.code).toMatch(/^CRYPTO_/);
  expect(halt.message).not.toContain(plaintext);
}

const avroPerson = (fields: unknown[]): string =>
  JSON.stringify({ type: 'record', name: 'Person', namespace: 'conformance.pins', fields: [{ name: 'id', type: 'int' }, ...fields] });
const ADDRESS = { type: 'record', name: 'Address', fields: [{ name: 'street', type: 'string', ...PII }, { name: 'city', type: 'string' }] };

describe('Go client, Avro (avrov2)', () => {
  it('does not descend into a reused named type: its tagged fields are written in PLAINTEXT and read back as ciphertext', async () => {
    // serde/avrov2/avro_util.go transform(): a reference to an already-defined record (*avro.RefSchema)
    // falls to the primitive branch, so the record behind it is never visited.
    const cell = await cellFor('AVRO', avroPerson([{ name: 'home', type: ADDRESS }, { name: 'work', type: 'Address' }]));
    const value = { id: 1, home: { street: 'Home street canary', city: 'A' }, work: { street: 'Work street canary', city: 'B' } };
    const goCipher = await cell.goWrite(cell.enc, value);
    expect(goCipher.includes(Buffer.from('Home street canary'))).toBe(false);
    expect(goCipher.includes(Buffer.from('Work street canary'))).toBe(true); // the Go client's leak
    await recryptRefusesToDecrypt(cell, goCipher, 'Work street canary');
    // recrypt encrypts both; JS reads both back; Go decrypts `home` only.
    const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(recryptCipher.includes(Buffer.from('Work street canary'))).toBe(false);
    expect(await cell.jsRead(cell.enc, recryptCipher)).toEqual(value);
    const got = await cell.goRead(cell.enc, recryptCipher) as { home: { street: string }; work: { street: string } };
    expect(got.home.street).toBe('Home street canary');
    expect(got.work.street).not.toBe('Work street canary');
    expect(got.work.street).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  it('panics on a null in a union of null and two or more other types (typed struct, interface field)', async () => {
    const cell = await cellFor('AVRO', avroPerson([{ name: 'alt', type: ['null', 'string', 'bytes'], default: null, ...PII }]));
    const value = { id: 1, alt: null };
    expect(await errorOf(cell.goWrite(cell.enc, value))).toMatch(/panic: reflect: call of reflect.Value.Interface on zero Value/);
    const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(await cell.jsRead(cell.enc, recryptCipher)).toEqual(value);
    expect(await errorOf(cell.goRead(cell.enc, recryptCipher))).toMatch(/panic: reflect: call of reflect.Value.Interface on zero Value/);
  });

  it('cannot write a record held in a union of two or more other types (interface field): "cannot assign to the given field"', async () => {
    const cell = await cellFor('AVRO', avroPerson([{ name: 'name', type: 'string', ...PII }, { name: 'contact', type: ['null', 'string', ADDRESS] }]));
    const value = { id: 1, name: 'Name canary', contact: { street: 'Union street canary', city: 'C' } };
    expect(await errorOf(cell.goWrite(cell.enc, value))).toMatch(/cannot assign to the given field/);
    const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(recryptCipher.includes(Buffer.from('Union street canary'))).toBe(false);
    expect(await cell.jsRead(cell.enc, recryptCipher)).toEqual(value);
  });

  it('generic map records: any union field fails on read ("unable to resolve type"), a null tagged optional panics on write', async () => {
    // hamba/avro decodes a union generically as {"<type>": value}; the rule executor resolves the union
    // branch from the Go type of that map and fails. Upstream: confluentinc/confluent-kafka-go#1493
    // (wrapped unions; merged after v2.11.1).
    const schema = avroPerson([{ name: 'nick', type: ['null', 'string'], default: null, ...PII }]);
    const cell = await cellFor('AVRO', schema);
    const set = { id: 1, nick: 'Nick canary' };
    const goCipher = await go.serialize('AVRO_GENERIC', cell.enc, toGo(set));
    expect(goCipher.includes(Buffer.from('Nick canary'))).toBe(false);
    expect(await cell.jsRead(cell.plain, await cell.recryptDecrypt(goCipher))).toEqual(set); // recrypt reads what Go wrote
    expect(await errorOf(go.deserialize('AVRO_GENERIC', cell.enc, goCipher))).toMatch(/unable to resolve type map\[string\]interface \{\}/);
    // Typed structs are fine with the same record.
    expect(await cell.goRead(cell.enc, goCipher)).toEqual(toGo(set));
    expect(await errorOf(go.serialize('AVRO_GENERIC', cell.enc, toGo({ id: 2, nick: null })))).toMatch(/panic: reflect: call of reflect.Value.Interface on zero Value/);
  });
});

const proto = (body: string): string => `syntax = "proto3";
package conformance.pins;
import "confluent/meta.proto";
message Address {
  string street = 1 [(confluent.field_meta).tags = "PII"];
  string city = 2;
}
${body}
`;
const PERSON = 'conformance.pins.Person';

describe('Go client, Protobuf (dynamic messages)', () => {
  it('does not visit nested messages: their tagged fields are written in PLAINTEXT and read back as ciphertext', async () => {
    // serde/protobuf/protobuf_util.go transform(): a message-typed field's value is a protoreflect.Value,
    // never a proto.Message, so it is not recursed into. (The JS serde has the same gap.)
    const cell = await cellFor('PROTOBUF', proto(`message Person {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  Address home = 2;
  map<string, Address> places = 3;
}`), PERSON);
    const value = { name: 'Name canary', home: { street: 'Nested street canary', city: 'X' }, places: { a: { street: 'Map street canary', city: 'Y' } } };
    const goCipher = await cell.goWrite(cell.enc, value);
    expect(goCipher.includes(Buffer.from('Name canary'))).toBe(false);
    expect(goCipher.includes(Buffer.from('Nested street canary'))).toBe(true); // the Go client's leak
    expect(goCipher.includes(Buffer.from('Map street canary'))).toBe(true);
    await recryptRefusesToDecrypt(cell, goCipher, 'Nested street canary');
    // recrypt encrypts every tagged field (as Java): Go decrypts the top-level one only.
    const recryptCipher = await cell.recryptEncrypt(await cell.goWrite(cell.plain, value));
    for (const s of ['Name canary', 'Nested street canary', 'Map street canary']) expect(recryptCipher.includes(Buffer.from(s))).toBe(false);
    const got = await cell.goRead(cell.enc, recryptCipher) as { name: string; home: { street: string } };
    expect(got.name).toBe('Name canary');
    expect(got.home.street).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(got.home.street).not.toBe('Nested street canary');
  });

  it('panics on any repeated message field when an ENCRYPT rule applies ("cannot convert message to list")', async () => {
    const cell = await cellFor('PROTOBUF', proto(`message Person {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  repeated Address previous = 2;
}`), PERSON);
    const value = { name: 'Name canary', previous: [{ street: 'Old street canary', city: 'Z' }] };
    expect(await errorOf(cell.goWrite(cell.enc, value))).toMatch(/panic: type\smismatch:\scannot\sconvert\smessage\sto\slist/);
    const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(recryptCipher.includes(Buffer.from('Old street canary'))).toBe(false);
    expect(await errorOf(cell.goRead(cell.enc, recryptCipher))).toMatch(/panic: type\smismatch:\scannot\sconvert\smessage\sto\slist/);
  });

  it('panics on an unset message field, an empty map field and an empty repeated field when an ENCRYPT rule applies', async () => {
    const cell = await cellFor('PROTOBUF', proto(`message Person {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  Address home = 2;
  map<string, string> labels = 3;
  repeated string notes = 4;
}`), PERSON);
    // (protobuf-go puts a random non-breaking space into its messages: hence \s.)
    const home = { street: 's', city: 'c' };
    expect(await errorOf(cell.goWrite(cell.enc, { name: 'Name canary', labels: { a: 'b' }, notes: ['n'] }))).toMatch(/panic: proto:\s\S*home:\sassigning\sinvalid\szero-value\smessage/);
    expect(await errorOf(cell.goWrite(cell.enc, { name: 'Name canary', home, notes: ['n'] }))).toMatch(/panic: proto:\s\S*labels:\sassigning\sinvalid\stype/);
    expect(await errorOf(cell.goWrite(cell.enc, { name: 'Name canary', home, labels: { a: 'b' } }))).toMatch(/panic: proto:\s\S*notes:\sassigning\sinvalid\stype/);
    // All set, the same message is fine.
    expect(await cell.goRead(cell.enc, await cell.goWrite(cell.enc, { name: 'Name canary', home, labels: { a: 'b' }, notes: ['n'] })))
      .toEqual(cell.goValue({ name: 'Name canary', home, labels: { a: 'b' }, notes: ['n'] }));
    // recrypt encrypts such records; the JS serdes read them back.
    const value = { name: 'Name canary' };
    const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(recryptCipher.includes(Buffer.from('Name canary'))).toBe(false);
    expect(await cell.jsRead(cell.enc, recryptCipher)).toEqual(cell.jsExpected(value));
  });

  it('cannot encrypt an empty tagged bytes field ("type \'8\' not supported for encryption"), but reads recrypt\'s', async () => {
    // rules/encryption/encrypt_executor.go: toBytes() returns the field's nil slice, taken for "no value".
    const cell = await cellFor('PROTOBUF', proto(`message Person {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  bytes photo = 2 [(confluent.field_meta).tags = "PII"];
}`), PERSON);
    const value = { name: 'Name canary', photo: Buffer.alloc(0) };
    expect(await errorOf(cell.goWrite(cell.enc, value))).toMatch(/type '8' not supported for encryption/);
    const recryptCipher = await cell.recryptEncrypt(await cell.jsWrite(cell.plain, value));
    expect(await cell.goRead(cell.enc, recryptCipher)).toEqual(cell.goValue(value));
    expect(await cell.jsRead(cell.enc, recryptCipher)).toEqual(cell.jsExpected(value));
  });
});
