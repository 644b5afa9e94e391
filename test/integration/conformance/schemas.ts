// The Customer schema of the core matrix in each format, and values for it. Tagged (PII) fields are
// strings and bytes at the top level and inside nested records, arrays, maps and optional fields
// (Protobuf: at the top level only here, since the JS Protobuf serde does not visit nested messages;
// depth.test.ts covers Protobuf nesting between Go and recrypt).
import type { Format } from './go-client.js';

export const AVRO_CUSTOMER = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'conformance',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
    { name: 'avatar', type: 'bytes', 'confluent:tags': ['PII'] },
    { name: 'phones', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] },
    { name: 'attributes', type: { type: 'map', values: 'string' }, 'confluent:tags': ['PII'] },
    {
      name: 'address',
      type: { type: 'record', name: 'Address', fields: [{ name: 'street', type: 'string', 'confluent:tags': ['PII'] }, { name: 'zip', type: 'string' }] },
    },
  ],
});

export const JSON_CUSTOMER = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: 'Customer', type: 'object',
  definitions: {
    Address: { type: 'object', properties: { street: { type: 'string', 'confluent:tags': ['PII'] }, zip: { type: 'string' } } },
  },
  properties: {
    id: { type: 'integer' },
    name: { type: 'string', 'confluent:tags': ['PII'] },
    email: { oneOf: [{ type: 'null' }, { type: 'string' }], 'confluent:tags': ['PII'] },
    country: { type: 'string' },
    balance: { type: 'number' },
    phones: { type: 'array', items: { type: 'string' }, 'confluent:tags': ['PII'] },
    address: { $ref: '#/definitions/Address' },
    previous: { type: 'array', items: { $ref: '#/definitions/Address' } },
  },
});

export const PROTO_CUSTOMER = `syntax = "proto3";
package conformance;
import "confluent/meta.proto";
message Customer {
  int64 id = 1;
  string name = 2 [(confluent.field_meta).tags = "PII"];
  string email = 3 [(confluent.field_meta) = { tags: ["PII"] }];
  string country = 4;
  double balance = 5;
  bytes avatar = 6 [(confluent.field_meta).tags = "PII"];
  repeated int32 scores = 7;
  map<string, string> attributes = 8;
  Address address = 9;
  message Address {
    string street = 1;
    string zip = 2;
  }
}
`;

export const SCHEMAS: Record<Format, { schema: string; typeName?: string }> = {
  AVRO: { schema: AVRO_CUSTOMER },
  JSON: { schema: JSON_CUSTOMER },
  PROTOBUF: { schema: PROTO_CUSTOMER, typeName: 'conformance.Customer' },
};

/** The i-th sample customer in the format's JS shape, and the plaintext strings that must not leak. */
export function customer(format: Format, i: number): { value: Record<string, unknown>; secrets: string[] } {
  const name = `Canary Name ${i} éß`;
  const email = `canary${i}@example.com`;
  const street = `Canary street ${i}`;
  const phone = `+31-canary-${i}`;
  const avatar = Buffer.from(`avatar-canary-${i}`);
  switch (format) {
    case 'AVRO':
      return {
        value: {
          id: i, name, email: i % 3 === 0 ? null : email, country: 'NL', balance: i / 4, avatar,
          phones: i % 2 ? [phone, `${phone}b`] : [], attributes: { tier: `tier-canary-${i}` }, address: { street, zip: '1234' },
        },
        secrets: [name, ...(i % 3 === 0 ? [] : [email]), street, `tier-canary-${i}`, 'avatar-canary', ...(i % 2 ? [phone] : [])],
      };
    case 'JSON':
      return {
        value: {
          id: i, name, email: i % 3 === 0 ? null : email, country: 'NL', balance: i / 4,
          phones: [phone], address: { street, zip: '1234' }, previous: [{ street: `${street} old`, zip: '99' }],
        },
        secrets: [name, ...(i % 3 === 0 ? [] : [email]), street, phone],
      };
    case 'PROTOBUF':
      return {
        value: {
          id: BigInt(i) * 1_000_000_007n, name, email, country: 'NL', balance: i / 4, avatar, scores: [i, i + 1],
          attributes: { tier: 'gold' }, address: { street: `Plain street ${i}`, zip: '1234' },
        },
        secrets: [name, email, 'avatar-canary'],
      };
  }
}
