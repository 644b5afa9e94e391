// A Confluent registry may answer a Protobuf schema with a base64 FileDescriptorProto (registered that
// way by Confluent's Python and Java serdes): recrypt's client passes it on and recrypt's Protobuf codec
// reads it like the .proto text, tags included; one that does not parse is FORMAT_SCHEMA.
import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { afterEach, describe, expect, it } from 'vitest';
import { createProtobufCodec } from '../../../src/formats/index.js';
import { SchemaRegistryClient } from '../../../src/registry/schema-registry-client.js';
import { RecryptError } from '../../../src/util/errors.js';
import { fileDescriptorFromText } from '../../integration/engine/proto-descriptors.js';
import { startTestServer, type TestServer } from './test-server.js';

const TEXT = `syntax = "proto3";
package shop;
import "confluent/meta.proto";
message Customer {
  string name = 1 [(confluent.field_meta) = { tags: ["PII"] }];
  double balance = 2;
  Address home = 3;
  message Address {
    bytes street = 1 [(confluent.field_meta) = { tags: ["PII", "ADDR"] }];
  }
}
`;
const DESCRIPTOR = Buffer.from(toBinary(FileDescriptorProtoSchema, fileDescriptorFromText(TEXT))).toString('base64');

let server: TestServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

const fieldsOf = (schema: string) =>
  createProtobufCodec({ schemaType: 'PROTOBUF', schema }).fields().map((f) => ({ name: f.fullName, tags: [...f.inlineTags].sort(), kind: f.kind }));

describe('Protobuf schemas served as descriptors', () => {
  it('recrypt reads a descriptor from the registry as it reads the .proto text: same fields, same tags', async () => {
    server = await startTestServer(() => ({ status: 200, body: { subject: 'orders-value', version: 3, id: 7, schemaType: 'PROTOBUF', schema: DESCRIPTOR } }));
    const fetched = await new SchemaRegistryClient({ baseUrls: [server.url] }).getLatest('orders-value');
    expect(fetched.schema).toBe(DESCRIPTOR);
    const fromDescriptor = fieldsOf(fetched.schema);
    expect(fromDescriptor).toEqual(fieldsOf(TEXT));
    expect(fromDescriptor.find((f) => f.name === 'shop.Customer.name')?.tags).toEqual(['PII']);
    expect(fromDescriptor.find((f) => f.name === 'shop.Customer.Address.street')?.tags).toEqual(['ADDR', 'PII']);
  });

  it('a descriptor from the registry that does not parse is refused naming its subject, version and id', async () => {
    const broken = Buffer.from([0x12, 0x05, 0x41]).toString('base64');
    server = await startTestServer(() => ({ status: 200, body: { subject: 'orders-value', version: 3, id: 7, schemaType: 'PROTOBUF', schema: broken } }));
    const fetched = await new SchemaRegistryClient({ baseUrls: [server.url] }).getLatest('orders-value');
    let caught: unknown;
    try {
      createProtobufCodec(fetched);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'FORMAT_SCHEMA' });
    expect((caught as Error).message).toContain('subject orders-value, version 3, schema id 7');
    expect((caught as Error).message).not.toContain(broken);
  });

  it('a descriptor that does not parse is FORMAT_SCHEMA, without the bytes in the message', () => {
    const broken = Buffer.from([0x12, 0x05, 0x41]).toString('base64');
    let caught: unknown;
    try {
      fieldsOf(broken);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RecryptError);
    expect((caught as RecryptError).code).toBe('FORMAT_SCHEMA');
    expect((caught as RecryptError).message).toContain('serialized FileDescriptorProto');
    expect((caught as RecryptError).message).not.toContain(broken);
  });
});
