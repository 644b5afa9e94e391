// Protobuf schemas as FileDescriptorProtos, against Confluent's official JS Protobuf serdes with no proxy
// in between: the dev registry stores a registered descriptor as `.proto` text and answers
// `?format=serialized` with a descriptor; recrypt's engine works over a schema registered as a descriptor.
import { create, createFileRegistry, createMutableRegistry, fromBinary, getExtension, hasExtension, toBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as FieldType, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ProtobufDeserializer, ProtobufSerializer, RuleRegistry, SchemaRegistryClient as OfficialClient, SerdeType } from '@confluentinc/schemaregistry';
import { field_meta, file_confluent_meta } from '@confluentinc/schemaregistry/dist/confluent/meta_pb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from '../../../src/registry/schema-registry-client.js';
import { encryptRule, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { createPair, expectBothWays } from '../engine/harness.js';
import { fileDescriptorFromText, messageDesc, messageRegistry } from '../engine/proto-descriptors.js';
import { call, uniq } from './helpers.js';

const CUSTOMER = `syntax = "proto3";
package shop;
import "confluent/meta.proto";
message Customer {
  string name = 1 [(confluent.field_meta) = { tags: ["PII"] }];
  double balance = 2;
  map<string, string> labels = 3;
  repeated Address addresses = 4;
  Tier tier = 5;
  oneof contact {
    string email = 6 [(confluent.field_meta) = { tags: ["PII"] }];
    string phone = 7;
  }
  message Address {
    string street = 1 [(confluent.field_meta) = { tags: ["PII"] }];
    int32 zip = 2;
  }
  enum Tier {
    BASIC = 0;
    GOLD = 1;
  }
}
`;

/** A descriptor built independently of recrypt (the tests' protobuf-es builder), base64. */
const officialDescriptor = (text: string): string => Buffer.from(toBinary(FileDescriptorProtoSchema, fileDescriptorFromText(text))).toString('base64');

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

async function latest(subject: string, format?: string): Promise<{ schema: string; schemaType: string; id: number }> {
  const res = await call(registry.url, 'GET', `/subjects/${encodeURIComponent(subject)}/versions/latest${format ? `?format=${format}` : ''}`);
  expect(res.status).toBe(200);
  return res.body as { schema: string; schemaType: string; id: number };
}

describe('dev registry: Protobuf descriptors', () => {
  it('stores a descriptor registered by the official ProtobufSerializer (auto-register) as .proto text; the official deserializer reads it back through ?format=serialized', async () => {
    const topic = uniq('protodesc');
    const types = messageRegistry(CUSTOMER);
    const client = new OfficialClient({ baseURLs: [registry.url], cacheCapacity: 100 });
    const serializer = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true, registry: createMutableRegistry(types) }, new RuleRegistry());
    const value = { name: 'Ada', balance: 2.5, labels: { a: 'b' }, addresses: [{ street: 'Main', zip: 7 }], tier: 1, contact: { case: 'email' as const, value: 'a@b' } };
    const bytes = await serializer.serialize(topic, create(messageDesc(types, 'shop.Customer'), value));

    const stored = await latest(`${topic}-value`);
    expect(stored.schemaType).toBe('PROTOBUF');
    expect(stored.schema).toContain('message Customer {');
    expect(stored.schema).toContain('map<string, string> labels = 3;');
    expect(stored.schema).toContain('(confluent.field_meta) = { tags: ["PII"] }');
    // recrypt's own client reads the text and recrypt's parser takes it
    const ours = await new SchemaRegistryClient({ baseUrls: [registry.url] }).getLatest(`${topic}-value`);
    expect(ours.schema).toBe(stored.schema);

    const deserializer = new ProtobufDeserializer(new OfficialClient({ baseURLs: [registry.url], cacheCapacity: 100 }), SerdeType.VALUE, {});
    const back = (await deserializer.deserialize(topic, bytes)) as Record<string, unknown>;
    expect(back['name']).toBe('Ada');
    expect(back['labels']).toEqual({ a: 'b' });
    expect((back['addresses'] as Array<Record<string, unknown>>)[0]!['street']).toBe('Main');
    expect(back['contact']).toEqual({ case: 'email', value: 'a@b' });
  });

  it('?format=serialized is a FileDescriptorProto protobuf-es accepts, with the same messages and tags as protoc-style descriptors; registering it again is the same schema', async () => {
    const subject = uniq('serialized-value');
    const reg = await call(registry.url, 'POST', `/subjects/${subject}/versions`, { schemaType: 'PROTOBUF', schema: CUSTOMER });
    expect(reg.status).toBe(200);
    const serialized = await latest(subject, 'serialized');
    const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(serialized.schema, 'base64'));
    const reference = fileDescriptorFromText(CUSTOMER);
    expect(file.package).toBe('shop');
    expect(file.dependency).toEqual(['confluent/meta.proto']);
    const customer = file.messageType[0]!;
    const expected = reference.messageType[0]!;
    const shape = (fields: typeof customer.field) => fields.map((f) => [f.name, f.number, f.label, f.type, f.typeName, f.oneofIndex]);
    expect(shape(customer.field)).toEqual(shape(expected.field));
    expect(customer.nestedType.map((n) => n.name).sort()).toEqual(expected.nestedType.map((n) => n.name).sort());
    const name = customer.field.find((f) => f.name === 'name')!;
    expect(hasExtension(name.options!, field_meta)).toBe(true);
    expect(getExtension(name.options!, field_meta).tags).toEqual(['PII']);
    const files = createFileRegistry(file, (dep) => (dep === 'confluent/meta.proto' ? file_confluent_meta : undefined));
    expect(files.getMessage('shop.Customer')?.fields.map((f) => f.name)).toEqual(['name', 'balance', 'labels', 'addresses', 'tier', 'email', 'phone']);

    // the descriptor registered under the same subject is the same schema: no new version
    const again = await call(registry.url, 'POST', `/subjects/${subject}/versions`, { schemaType: 'PROTOBUF', schema: serialized.schema });
    expect(again.status).toBe(200);
    const twice = await call(registry.url, 'POST', `/subjects/${subject}/versions`, { schemaType: 'PROTOBUF', schema: serialized.schema });
    expect((twice.body as { id: number }).id).toBe((again.body as { id: number }).id);
    expect((await latest(subject, 'serialized')).schema).toBe(serialized.schema);
    // by id and GUID too; Avro ignores the format
    const byId = await call(registry.url, 'GET', `/schemas/ids/${serialized.id}?format=serialized`);
    expect((byId.body as { schema: string }).schema).toBe(serialized.schema);
    expect((await call(registry.url, 'GET', `/schemas/ids/${serialized.id}/schema?format=serialized`)).body).toBe(serialized.schema);
    expect((await call(registry.url, 'GET', `/subjects/${subject}/versions/1/schema?format=serialized`)).body).toBe(serialized.schema);
    expect((await call(registry.url, 'GET', `/subjects/${subject}/versions/1/schema`)).body).toContain('message Customer');
  });

  it('a descriptor with a reference: the import and the referenced types survive both ways', async () => {
    const common = uniq('common-value');
    const COMMON = 'syntax = "proto3";\npackage common;\nmessage Money {\n  int64 units = 1;\n  string currency = 2;\n}\n';
    expect((await call(registry.url, 'POST', `/subjects/${common}/versions`, { schemaType: 'PROTOBUF', schema: officialDescriptor(COMMON) })).status).toBe(200);
    const main = uniq('order-value');
    const ORDER = 'syntax = "proto3";\npackage shop;\nimport "common.proto";\nmessage Order {\n  common.Money total = 1;\n}\n';
    const reg = await call(registry.url, 'POST', `/subjects/${main}/versions`, {
      schemaType: 'PROTOBUF', schema: ORDER, references: [{ name: 'common.proto', subject: common, version: 1 }],
    });
    expect(reg.status).toBe(200);
    expect((await latest(common)).schema).toContain('message Money {');
    const file = fromBinary(FileDescriptorProtoSchema, Buffer.from((await latest(main, 'serialized')).schema, 'base64'));
    expect(file.dependency).toEqual(['common.proto']);
    expect(file.messageType[0]!.field[0]!.typeName).toBe('.common.Money');

    // as a Python producer with default settings does it: the main schema as a descriptor too, then a
    // lookup with the same descriptor finds it, and the reference reads back serialized (deleted=true)
    const pySubject = uniq('pyorder-value');
    const orderDescriptor = Buffer.from(toBinary(FileDescriptorProtoSchema, create(FileDescriptorProtoSchema, {
      name: 'order.proto', package: 'shop', dependency: ['common.proto'], syntax: 'proto3',
      messageType: [{ name: 'Order', field: [{ name: 'total', number: 1, label: Label.OPTIONAL, type: FieldType.MESSAGE, typeName: '.common.Money', jsonName: 'total' }] }],
    }))).toString('base64');
    const body = { schemaType: 'PROTOBUF', schema: orderDescriptor, references: [{ name: 'common.proto', subject: common, version: 1 }] };
    const pyReg = await call(registry.url, 'POST', `/subjects/${pySubject}/versions`, body);
    expect(pyReg.status).toBe(200);
    expect((await latest(pySubject)).schema).toContain('.common.Money total = 1;');
    const found = await call(registry.url, 'POST', `/subjects/${pySubject}?format=serialized`, body);
    expect(found.status).toBe(200);
    expect((found.body as { id: number; version: number })).toMatchObject({ id: (pyReg.body as { id: number }).id, version: 1 });
    const ref = await call(registry.url, 'GET', `/subjects/${common}/versions/1?deleted=true&format=serialized`);
    const refFile = fromBinary(FileDescriptorProtoSchema, Buffer.from((ref.body as { schema: string }).schema, 'base64'));
    expect(refFile.messageType.map((m) => m.name)).toEqual(['Money']);
  });

  it('refuses a descriptor that does not parse with 42201, naming the subject and not echoing the bytes', async () => {
    const subject = uniq('broken-value');
    const garbage = Buffer.from([0x12, 0x05, 0x41]).toString('base64'); // package: 5 bytes announced, 1 there
    const res = await call(registry.url, 'POST', `/subjects/${subject}/versions`, { schemaType: 'PROTOBUF', schema: garbage });
    expect(res.status).toBe(422);
    const body = res.body as { error_code: number; message: string };
    expect(body.error_code).toBe(42201);
    expect(body.message).toContain(subject);
    expect(body.message).not.toContain(garbage);
  });
});

describe('recrypt over a schema registered as a descriptor', () => {
  it('decrypts what the official serializer encrypted and encrypts what it decrypts (PII fields, no proxy)', async () => {
    const kek = uniq('kek');
    // Register the descriptor first; createPair then registers the stored text, which is the same schema.
    const pair0 = { enc: uniq('encdesc'), plain: uniq('plaindesc') };
    const ruleSet = { domainRules: [encryptRule('pii', kek)] };
    await call(registry.url, 'POST', `/subjects/${pair0.enc}-value/versions`, { schemaType: 'PROTOBUF', schema: officialDescriptor(CUSTOMER), ruleSet });
    const text = (await latest(`${pair0.enc}-value`)).schema;
    expect(text).toContain('message Customer {');
    const pair = await createPair(registry.url, { format: 'PROTOBUF', schema: text, ruleSet, typeName: 'shop.Customer', protoUrl: registry.url });
    // No nested tagged field: the JS serde (1.10.1) walks a nested message with its parent's descriptor
    // and leaves its tagged fields plaintext (recrypt encrypts them), so only top-level fields compare.
    const value = { name: 'DescCanary-Name', balance: 1.5, labels: { k: 'v' }, addresses: [], tier: 1 };
    await expectBothWays(pair, value, ['DescCanary-Name']);
  });
});
