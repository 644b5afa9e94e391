// Tagged fields at depth, one shape per test, against the Go client (and the JS serdes where they
// handle the shape): nested records, arrays, maps, unions / oneof, optional fields, reused named types,
// string and bytes, tags inline and through the schema's metadata.tags. Every direction (cell.ts).
// Shapes the Go client itself cannot handle are pinned in go-client-pins.test.ts instead.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { LOCAL_SECRET, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { startSerializedFormatProxy, type Proxy } from '../engine/proto-descriptors.js';
import type { SchemaMetadata } from '../../../src/registry/types.js';
import { createCell, encryptRule, expectAllDirections, kmsParams } from './cell.js';
import { GoClient, type Format } from './go-client.js';

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

interface Shape {
  readonly name: string;
  readonly schema: string;
  readonly typeName?: string;
  readonly metadata?: SchemaMetadata;
  readonly values: readonly unknown[];
  readonly secrets: readonly string[];
  /** The JS serdes handle this shape too (otherwise the reason; Go and recrypt only). */
  readonly js: true | string;
  /** The Go client handles this shape (otherwise the reason, pinned in go-client-pins.test.ts; JS and recrypt only). */
  readonly go?: true | string;
}

const GO_AVRO_REF = 'the Go client does not descend into a reused named type (go-client-pins.test.ts)';

const avro = (fields: unknown[], extra: unknown[] = []): string =>
  JSON.stringify({ type: 'record', name: 'Person', namespace: 'conformance.depth', fields: [{ name: 'id', type: 'int' }, ...fields, ...extra] });
const PII = { 'confluent:tags': ['PII'] };
const ADDRESS = { type: 'record', name: 'Address', fields: [{ name: 'street', type: 'string', ...PII }, { name: 'city', type: 'string' }] };
const addr = (i: number): Record<string, string> => ({ street: `Secret street ${i}`, city: 'Utrecht' });

const AVRO_SHAPES: Shape[] = [
  {
    name: 'string and bytes at the top level, inline tags',
    schema: avro([{ name: 'name', type: 'string', ...PII }, { name: 'photo', type: 'bytes', ...PII }]),
    values: [{ id: 1, name: 'Secret name 1', photo: Buffer.from('secret-photo-1') }, { id: 2, name: '', photo: Buffer.alloc(0) }],
    secrets: ['Secret name 1', 'secret-photo-1'], js: true,
  },
  {
    name: 'nested records three deep',
    schema: avro([{
      name: 'l1', type: { type: 'record', name: 'L1', fields: [{ name: 'l2', type: { type: 'record', name: 'L2', fields: [{ name: 'secret', type: 'string', ...PII }, { name: 'blob', type: 'bytes', ...PII }] } }] },
    }]),
    values: [{ id: 1, l1: { l2: { secret: 'Deep secret value', blob: Buffer.from('deep-secret-blob') } } }],
    secrets: ['Deep secret value', 'deep-secret-blob'], js: true,
  },
  {
    name: 'optional ["null", string] and ["null", record], set and null',
    schema: avro([{ name: 'nick', type: ['null', 'string'], default: null, ...PII }, { name: 'home', type: ['null', ADDRESS], default: null }]),
    values: [{ id: 1, nick: 'Secret nick', home: addr(1) }, { id: 2, nick: null, home: null }],
    secrets: ['Secret nick', 'Secret street 1'], js: true,
  },
  {
    name: 'reused named type (a record used in three places)',
    schema: avro([{ name: 'home', type: ADDRESS }, { name: 'work', type: ['null', 'Address'], default: null }, { name: 'previous', type: { type: 'array', items: 'Address' } }]),
    values: [{ id: 1, home: addr(1), work: addr(2), previous: [addr(3), addr(4)] }, { id: 2, home: addr(5), work: null, previous: [] }],
    secrets: ['Secret street 1', 'Secret street 2', 'Secret street 3', 'Secret street 4', 'Secret street 5'], js: true, go: GO_AVRO_REF,
  },
  {
    name: 'tagged arrays and maps of strings and bytes',
    schema: avro([
      { name: 'notes', type: { type: 'array', items: 'string' }, ...PII },
      { name: 'labels', type: { type: 'map', values: 'string' }, ...PII },
      { name: 'keys', type: { type: 'map', values: 'bytes' }, ...PII },
    ]),
    values: [{ id: 1, notes: ['Secret note a', 'Secret note b'], labels: { x: 'Secret label x' }, keys: { k: Buffer.from('secret-key-bytes') } }],
    secrets: ['Secret note a', 'Secret note b', 'Secret label x', 'secret-key-bytes'], js: true,
  },
  {
    name: 'union of null, string and bytes',
    schema: avro([{ name: 'alt', type: ['null', 'string', 'bytes'], default: null, ...PII }]),
    values: [{ id: 1, alt: 'Secret alt string' }, { id: 2, alt: Buffer.from('secret-alt-bytes') }],
    secrets: ['Secret alt string', 'secret-alt-bytes'], js: true,
  },
  {
    name: 'union of null, string and bytes, null',
    schema: avro([{ name: 'alt', type: ['null', 'string', 'bytes'], default: null, ...PII }]),
    values: [{ id: 3, alt: null }],
    secrets: [], js: true, go: 'the Go client panics on a null in a union of more than one other type (go-client-pins.test.ts)',
  },
  {
    name: 'tags through metadata.tags (record paths and wildcards), none inline',
    schema: avro([{ name: 'plain', type: 'string' }, { name: 'inner', type: { type: 'record', name: 'Inner', fields: [{ name: 'ssn', type: 'string' }, { name: 'ok', type: 'string' }] } }]),
    metadata: { tags: { 'conformance.depth.Person.plain': ['PII'], '**.ssn': ['PII'] } },
    values: [{ id: 1, plain: 'Secret via metadata', inner: { ssn: 'Secret ssn 123', ok: 'visible' } }],
    secrets: ['Secret via metadata', 'Secret ssn 123'], js: true,
  },
];

const json = (properties: Record<string, unknown>, definitions: Record<string, unknown> = {}): string =>
  JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'Person', type: 'object', definitions, properties: { id: { type: 'integer' }, ...properties } });
const JADDRESS = { type: 'object', properties: { street: { type: 'string', ...PII }, city: { type: 'string' } } };

const JSON_SHAPES: Shape[] = [
  {
    name: 'nested objects three deep',
    schema: json({ l1: { type: 'object', properties: { l2: { type: 'object', properties: { secret: { type: 'string', ...PII }, n: { type: 'number' } } } } } }),
    values: [{ id: 1, l1: { l2: { secret: 'Deep secret json', n: 1.5 } } }],
    secrets: ['Deep secret json'], js: true,
  },
  {
    name: 'reused $ref definition, in an array and alone',
    schema: json({ home: { $ref: '#/definitions/Address' }, previous: { type: 'array', items: { $ref: '#/definitions/Address' } } }, { Address: JADDRESS }),
    values: [{ id: 1, home: addr(1), previous: [addr(2), addr(3)] }, { id: 2, home: addr(4), previous: [] }],
    secrets: ['Secret street 1', 'Secret street 2', 'Secret street 3', 'Secret street 4'], js: true,
  },
  {
    name: 'tagged array of strings',
    schema: json({ notes: { type: 'array', items: { type: 'string' }, ...PII } }),
    values: [{ id: 1, notes: ['Secret note a', 'Secret note b'] }],
    secrets: ['Secret note a', 'Secret note b'], js: true,
  },
  {
    name: 'oneOf null or string (optional), set and null',
    schema: json({ nick: { oneOf: [{ type: 'null' }, { type: 'string' }], ...PII } }),
    values: [{ id: 1, nick: 'Secret nick json' }, { id: 2, nick: null }],
    secrets: ['Secret nick json'], js: true,
  },
  {
    name: 'oneOf of two object shapes',
    schema: json({
      contact: {
        oneOf: [
          { type: 'object', properties: { email: { type: 'string', ...PII } }, required: ['email'], additionalProperties: false },
          { type: 'object', properties: { phone: { type: 'string', ...PII } }, required: ['phone'], additionalProperties: false },
        ],
      },
    }),
    values: [{ id: 1, contact: { email: 'secret@example.com' } }, { id: 2, contact: { phone: 'Secret phone 555' } }],
    secrets: ['secret@example.com', 'Secret phone 555'], js: true,
  },
  {
    name: 'tags through metadata.tags ($ paths)',
    schema: json({ plain: { type: 'string' }, inner: { type: 'object', properties: { ssn: { type: 'string' }, ok: { type: 'string' } } } }),
    metadata: { tags: { '$.plain': ['PII'], '$.inner.ssn': ['PII'] } },
    values: [{ id: 1, plain: 'Secret via metadata', inner: { ssn: 'Secret ssn 123', ok: 'visible' } }],
    secrets: ['Secret via metadata', 'Secret ssn 123'], js: true,
  },
];

// Both official Protobuf serdes (JS and Go) visit only the top-level fields of a message: tagged fields
// inside nested, repeated or map-valued messages, and (Go) any repeated message field, are pinned in
// go-client-pins.test.ts (and for JS in engine/formats-compat.test.ts). Here: every top-level shape,
// next to untagged nested data.
const proto = (body: string): string => `syntax = "proto3";
package conformance.depth;
import "confluent/meta.proto";
${body}
`;
const PROTO_SHAPES: Shape[] = [
  {
    name: 'string and bytes at the top level, both tag syntaxes, untagged nested messages and maps of messages around them',
    schema: proto(`message Address { string street = 1; string city = 2; }
message Person {
  int32 id = 1;
  string name = 2 [(confluent.field_meta).tags = "PII"];
  bytes photo = 3 [(confluent.field_meta) = { tags: ["PII"] }];
  Address home = 4;
  map<string, Address> places = 6;
}`),
    typeName: 'conformance.depth.Person',
    values: [
      { id: 1, name: 'Secret name 1', photo: Buffer.from('secret-photo-1'), home: addr(1), places: { a: addr(3) } },
      // An empty tagged bytes field is pinned in go-client-pins.test.ts (the Go client cannot write it).
      // (and an unset message or map field: the Go client panics on them, same file).
      { id: 2, name: '', photo: Buffer.from([0]), home: addr(4), places: { b: addr(5) } },
    ],
    secrets: ['Secret name 1', 'secret-photo-1'], js: true,
  },
  {
    name: 'tagged repeated string, untagged map<string, string>',
    schema: proto(`message Person {
  int32 id = 1;
  repeated string notes = 2 [(confluent.field_meta).tags = "PII"];
  map<string, string> labels = 3;
}`),
    typeName: 'conformance.depth.Person',
    values: [{ id: 1, notes: ['Secret note a', 'Secret note b'], labels: { x: 'visible label' } }],
    secrets: ['Secret note a', 'Secret note b'],
    js: 'the JS Protobuf serde fails to decrypt a tagged repeated string ("ciphertext too short"); Go and recrypt agree',
  },
  {
    name: 'oneof with a tagged string branch, and proto3 optional',
    schema: proto(`message Address { string street = 1; string city = 2; }
message Person {
  int32 id = 1;
  oneof contact {
    string email = 2 [(confluent.field_meta).tags = "PII"];
    Address address = 3;
  }
  optional string nick = 4 [(confluent.field_meta).tags = "PII"];
}`),
    typeName: 'conformance.depth.Person',
    values: [
      { id: 1, contact: { case: 'email', value: 'secret@example.com' }, nick: 'Secret nick proto' },
      { id: 2, contact: { case: 'address', value: addr(7) } },
      { id: 3 },
    ],
    secrets: ['secret@example.com', 'Secret nick proto'], js: true,
  },
  {
    name: 'tags through metadata.tags (full name and wildcard)',
    schema: proto(`message Person {
  int32 id = 1;
  string plain = 2;
  string ssn = 3;
  string ok = 4;
}`),
    typeName: 'conformance.depth.Person',
    metadata: { tags: { 'conformance.depth.Person.plain': ['PII'], '**.ssn': ['PII'] } },
    values: [{ id: 1, plain: 'Secret via metadata', ssn: 'Secret ssn 123', ok: 'visible' }],
    secrets: ['Secret via metadata', 'Secret ssn 123'], js: true,
  },
];

const SHAPES: Record<Format, Shape[]> = { AVRO: AVRO_SHAPES, JSON: JSON_SHAPES, PROTOBUF: PROTO_SHAPES };

describe.each(['AVRO', 'PROTOBUF', 'JSON'] as const)('%s tagged fields at depth', (format) => {
  it.each(SHAPES[format].map((s) => [s.name, s] as const))('%s', async (_name, shape) => {
    const cell = await createCell(registry.url, go, {
      format, schema: shape.schema, protoUrl: proxy.url, ...(shape.typeName ? { typeName: shape.typeName } : {}),
      ...(shape.metadata ? { metadata: shape.metadata } : {}),
      rules: (kek) => [encryptRule('encryptPII', kek, { ...kmsParams('local-kms', ''), 'encrypt.dek.algorithm': 'AES256_GCM' })],
    });
    for (const value of shape.values) {
      await expectAllDirections(cell, value, {
        secrets: shape.secrets.filter((s) => JSON.stringify(value, bufferText).includes(s)), js: shape.js === true, go: shape.go === undefined,
      });
    }
  });
});

/** JSON.stringify replacer that shows Buffers as their text, to find which secrets a value holds. */
function bufferText(_key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer') return Buffer.from((v as { data: number[] }).data).toString('latin1');
  return v;
}

