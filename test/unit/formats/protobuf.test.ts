import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { createProtobufCodec } from '../../../src/formats/protobuf.js';
import type { FieldInfo, FieldVisitor } from '../../../src/formats/types.js';
import { RecryptError } from '../../../src/util/errors.js';

const OTHER = `syntax = "proto3";
package other;
import "confluent/meta.proto";
message Addr {
  string street = 1 [(confluent.field_meta).tags = "PII"];
  int32 number = 2;
}
`;

const MAIN = `syntax = "proto3";
package test;
import "confluent/meta.proto";
import "other.proto";
import "google/protobuf/timestamp.proto";

message Customer {
  string name = 1 [(confluent.field_meta).tags = "PII", (confluent.field_meta).tags = "GDPR"];
  string email = 2 [(confluent.field_meta) = { tags: ["PII"], params: { key: "k" value: "v" } }];
  int64 id = 3;
  map<string, string> attrs = 4;
  oneof contact {
    string phone = 5 [(confluent.field_meta).tags = "PII"];
    int32 ext = 6;
  }
  optional string nick = 7 [(confluent.field_meta).tags = "PII"];
  bytes photo = 8 [(confluent.field_meta).tags = "PII"];
  message Note {
    string text = 1 [(confluent.field_meta).tags = "PII"];
    Note reply = 2;
  }
  repeated Note notes = 9;
  other.Addr addr = 10;
  map<string, Note> notes_by_key = 11;
  google.protobuf.Timestamp created = 12;
  repeated string aliases = 13 [(confluent.field_meta).tags = "PII"];
  string country = 14;
}

message Other {
  string q = 1 [(confluent.field_meta).tags = "PII"];
  message Inner { string z = 1 [(confluent.field_meta).tags = "PII"]; }
  message Inner2 { string y = 1; }
}
`;

const refs = new Map([['other.proto', { schemaType: 'PROTOBUF' as const, schema: OTHER }]]);
const codec = (indexes?: number[], schema = MAIN) =>
  createProtobufCodec({ schemaType: 'PROTOBUF', schema, references: [{ name: 'other.proto', subject: 'other', version: 1 }] }, refs, indexes === undefined ? {} : { messageIndexes: indexes });

const byTag = (tag: string) => (f: FieldInfo) => f.inlineTags.includes(tag);

function recorder(mark = (v: unknown) => (typeof v === 'string' ? `<${v}>` : v)) {
  const seen: [string, unknown][] = [];
  const visit: FieldVisitor = (v, f) => {
    seen.push([f.fullName, Buffer.isBuffer(v) ? `buf:${v.toString('hex')}` : v]);
    return mark(v);
  };
  return { seen, visit };
}

function expectCode(fn: () => unknown, code: string, secret?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RecryptError);
  expect((caught as RecryptError).code).toBe(code);
  if (secret !== undefined) expect(String(caught)).not.toContain(secret);
}

const full = {
  name: 'Alice',
  email: 'a@x.io',
  id: '9223372036854775807',
  attrs: { k1: 'v1' },
  phone: '+49',
  photo: Buffer.from([1, 2]),
  notes: [{ text: 'n1', reply: { text: 'n2' } }],
  addr: { street: 'Main St', number: 5 },
  notesByKey: undefined,
  notes_by_key: { a: { text: 'nk' } },
  created: { seconds: 10, nanos: 1 },
  aliases: ['al1', 'al2'],
  country: 'DE',
};

describe('Protobuf codec', () => {
  it('selects messages by index (top level and nested)', () => {
    expect(codec().messageType.fullName).toBe('.test.Customer');
    expect(codec([0]).messageType.fullName).toBe('.test.Customer');
    expect(codec([1]).messageType.fullName).toBe('.test.Other');
    expect(codec([0, 0]).messageType.fullName).toBe('.test.Customer.Note');
    expect(codec([1, 1]).messageType.fullName).toBe('.test.Other.Inner2');
    expectCode(() => codec([2]), 'FORMAT_SCHEMA');
    expectCode(() => codec([1, 5]), 'FORMAT_SCHEMA');
  });

  it('lists fields with package-qualified names, kinds and inline tags (both option forms, imports)', () => {
    const fields = Object.fromEntries(codec().fields().map((f) => [f.fullName, `${f.kind}|${f.inlineTags.join(',')}`]));
    expect(fields).toMatchObject({
      'test.Customer.name': 'string|PII,GDPR',
      'test.Customer.email': 'string|PII',
      'test.Customer.id': 'other|',
      'test.Customer.attrs': 'other|',
      'test.Customer.AttrsEntry.key': 'string|',
      'test.Customer.AttrsEntry.value': 'string|',
      'test.Customer.phone': 'string|PII',
      'test.Customer.ext': 'other|',
      'test.Customer.photo': 'bytes|PII',
      'test.Customer.Note.text': 'string|PII',
      'other.Addr.street': 'string|PII',
      'test.Customer.NotesByKeyEntry.value': 'other|',
      'google.protobuf.Timestamp.seconds': 'other|',
      'test.Customer.aliases': 'string|PII',
    });
  });

  it('round-trips with lossless longs and Buffer bytes', () => {
    const c = codec();
    const bytes = c.encode(c.messageType.fromObject(full));
    const decoded = c.decode(bytes) as Record<string, unknown>;
    expect(Buffer.isBuffer(decoded['photo'])).toBe(true);
    expect(String(decoded['id'])).toBe('9223372036854775807');
    expect(c.encode(decoded).equals(bytes)).toBe(true);
    expect(c.messageType.toObject(c.decode(bytes) as protobuf.Message, { longs: String })).toMatchObject({ id: '9223372036854775807', name: 'Alice' });
  });

  it('visits tagged fields in nested, repeated, recursive, imported and map-valued messages and set oneofs', () => {
    const c = codec();
    const bytes = c.encode(c.messageType.fromObject(full));
    const value = c.decode(bytes);
    const { seen, visit } = recorder();
    const out = c.compileWalker(byTag('PII'))?.(value, visit);
    expect(seen).toEqual([
      ['test.Customer.name', 'Alice'],
      ['test.Customer.email', 'a@x.io'],
      ['test.Customer.phone', '+49'],
      ['test.Customer.photo', 'buf:0102'],
      ['test.Customer.Note.text', 'n1'],
      ['test.Customer.Note.text', 'n2'],
      ['other.Addr.street', 'Main St'],
      ['test.Customer.Note.text', 'nk'],
      ['test.Customer.aliases', 'al1'],
      ['test.Customer.aliases', 'al2'],
    ]); // nick (proto3 optional, unset) is skipped
    const back = c.messageType.toObject(c.decode(c.encode(out)) as protobuf.Message) as typeof full;
    expect(back.name).toBe('<Alice>');
    expect(back.notes[0]?.reply?.text).toBe('<n2>');
    expect(back.notes_by_key['a']?.text).toBe('<nk>');
    expect(back.addr.street).toBe('<Main St>');
    expect(back.country).toBe('DE');
  });

  it('visits unset implicit-presence strings as "" (like Confluent) and skips unset oneofs', () => {
    const c = codec();
    const value = c.decode(c.encode(c.messageType.fromObject({ country: 'DE' })));
    const { seen, visit } = recorder((v) => v);
    c.compileWalker(byTag('PII'))?.(value, visit);
    expect(seen).toEqual([
      ['test.Customer.name', ''],
      ['test.Customer.email', ''],
      ['test.Customer.photo', 'buf:'],
    ]);
    const opt = c.decode(c.encode(c.messageType.fromObject({ nick: 'nn', ext: 3 })));
    const r2 = recorder((v) => v);
    c.compileWalker(byTag('PII'))?.(opt, r2.visit);
    expect(r2.seen).toContainEqual(['test.Customer.nick', 'nn']);
    expect(r2.seen.map((s) => s[0])).not.toContain('test.Customer.phone');
  });

  it('walks map values (and keys) by their entry field names', () => {
    const c = codec();
    const value = c.decode(c.encode(c.messageType.fromObject({ attrs: { k1: 'v1', k2: 'v2' } })));
    const { seen, visit } = recorder();
    const out = c.compileWalker((f) => f.fullName === 'test.Customer.AttrsEntry.value' || f.fullName === 'test.Customer.AttrsEntry.key')?.(value, visit);
    expect(seen).toEqual([
      ['test.Customer.AttrsEntry.value', 'v1'],
      ['test.Customer.AttrsEntry.value', 'v2'],
      ['test.Customer.AttrsEntry.key', 'k1'],
      ['test.Customer.AttrsEntry.key', 'k2'],
    ]);
    expect((c.decode(c.encode(out)) as { attrs: Record<string, string> }).attrs).toEqual({ '<k1>': '<v1>', '<k2>': '<v2>' });
  });

  it('returns no walker when nothing is selected', () => {
    expect(codec().compileWalker(byTag('NOPE'))).toBeNull();
    expect(codec([1, 1]).compileWalker(byTag('PII'))).toBeNull();
  });

  it('property: identity walk preserves the bytes', () => {
    const c = codec();
    const walker = c.compileWalker(() => true);
    fc.assert(
      fc.property(
        fc.record({ name: fc.string(), email: fc.string(), id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), aliases: fc.array(fc.string()), photo: fc.uint8Array() }),
        (x) => {
          const bytes = c.encode(c.messageType.fromObject({ ...x, id: x.id.toString(), photo: Buffer.from(x.photo) }));
          const out = walker?.(c.decode(bytes), (v) => v);
          expect(c.encode(out).equals(bytes)).toBe(true);
          expect(String((c.decode(bytes) as { id: unknown }).id)).toBe(x.id.toString());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fails bad payloads with FORMAT_DECODE and bad values with FORMAT_ENCODE', () => {
    const c = codec();
    expectCode(() => c.decode(Buffer.from([0xff, 0xff, 0xff])), 'FORMAT_DECODE');
    const good = c.encode(c.messageType.fromObject({ name: 'topsecret' }));
    expectCode(() => c.decode(good.subarray(0, good.length - 2)), 'FORMAT_DECODE', 'topsecret');
    expectCode(() => c.encode({ name: 12345 }), 'FORMAT_ENCODE', '12345');
    expectCode(() => c.encode(null), 'FORMAT_ENCODE');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          c.decode(Buffer.from(bytes));
        } catch (err) {
          expect((err as RecryptError).code).toBe('FORMAT_DECODE');
        }
      }),
    );
  });

  it('fails invalid schemas and missing imports with FORMAT_SCHEMA', () => {
    expectCode(() => createProtobufCodec({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; message {' }, new Map()), 'FORMAT_SCHEMA');
    expectCode(() => createProtobufCodec({ schemaType: 'PROTOBUF', schema: MAIN }, new Map()), 'FORMAT_SCHEMA');
    expectCode(
      () => createProtobufCodec({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; message A { Missing m = 1; }' }, new Map()),
      'FORMAT_SCHEMA',
    );
    expectCode(() => createProtobufCodec({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; enum E { X = 0; }' }, new Map()), 'FORMAT_SCHEMA');
  });

  it('works without a package and with well-known imports only', () => {
    const c = createProtobufCodec(
      {
        schemaType: 'PROTOBUF',
        schema: `syntax = "proto3";
import "google/protobuf/wrappers.proto";
import "google/protobuf/descriptor.proto";
import "confluent/meta.proto";
message Plain { google.protobuf.StringValue w = 1; string s = 2 [(confluent.field_meta).tags = "PII"]; }`,
      },
      new Map(),
    );
    expect(c.fields().map((f) => f.fullName)).toEqual(['Plain.w', 'Plain.s', 'google.protobuf.StringValue.value']);
    const v = c.decode(c.encode(c.messageType.fromObject({ w: { value: 'x' }, s: 'y' })));
    const { seen, visit } = recorder();
    c.compileWalker((f) => f.fullName === 'google.protobuf.StringValue.value' || f.inlineTags.includes('PII'))?.(v, visit);
    expect(seen).toEqual([
      ['google.protobuf.StringValue.value', 'x'],
      ['Plain.s', 'y'],
    ]);
  });
});
