/**
 * The Protobuf splicer's edges (src/formats/protobuf-splice.ts): when it declines at compile time (schemas
 * that do not encode alike, selections the walker treats another way) and at scan time (groups, wire type
 * mismatches, duplicates, truncation), and what it keeps (unknown fields, the target's field infos).
 */
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { createProtobufCodec, type FieldInfo, type FieldSplicer, type ProtobufCodec } from '../../../src/formats/index.js';

const pii = (f: FieldInfo): boolean => f.inlineTags.includes('PII');
const TAG = '[(confluent.field_meta).tags = "PII"]';

const codecOf = (body: string, pkg = 'p'): ProtobufCodec =>
  createProtobufCodec({ schemaType: 'PROTOBUF', schema: `syntax = "proto3";\npackage ${pkg};\nimport "confluent/meta.proto";\n${body}` });

function encode(codec: ProtobufCodec, value: Record<string, unknown>): Buffer {
  const type = codec.messageType;
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

const decoded = (codec: ProtobufCodec, payload: Buffer): unknown =>
  codec.messageType.toObject(codec.decode(payload) as protobuf.Message, { longs: String, bytes: String, defaults: true });

/** Every write leaf becomes `<` + its bytes + `>` (a bytes-level stand-in for encryption). */
function wrapAll(splicer: FieldSplicer, payload: Buffer): Buffer | undefined {
  const state = splicer.newState();
  expect(splicer.scan(payload, state)).toBe(true);
  for (const leaf of splicer.write[0]!) {
    state.values[leaf.index] = Buffer.concat([Buffer.from('<'), state.values[leaf.index] as Buffer, Buffer.from('>')]);
  }
  return splicer.splice(payload, state, Buffer.alloc(0));
}

const PERSON = `
message Person {
  string name = 1 ${TAG};
  Address home = 2;
  repeated Address past = 3;
  int64 id = 4;
  Person friend = 5;
}
message Address { string street = 1 ${TAG}; int32 no = 2; }`;

describe('Protobuf splicer: compile', () => {
  it('declines a target that does not encode alike, accepts a renamed package with the same structure', () => {
    const read = codecOf(PERSON);
    expect(read.compileSplicer!(codecOf(PERSON.replace('int64 id = 4', 'string id = 4')), [null], [pii])).toBeNull();
    expect(read.compileSplicer!(codecOf(PERSON.replace('int64 id = 4', 'int64 id = 6')), [null], [pii])).toBeNull();
    expect(read.compileSplicer!(codecOf(PERSON.replace('repeated Address past', 'Address past')), [null], [pii])).toBeNull();
    const renamed = codecOf(PERSON, 'q');
    const splicer = read.compileSplicer!(renamed, [null], [pii])!;
    expect(splicer).not.toBeNull();
    const state = splicer.newState();
    expect(splicer.scan(encode(read, { name: 'n', home: { street: 's' } }), state)).toBe(true);
    // The write side's leaves carry the target's field infos.
    expect(splicer.write[0]!.map((l) => l.info.fullName)).toEqual(['q.Person.name', 'q.Address.street']);
  });

  it('declines selections the walker treats another way: scalars, enums, map keys, explicit defaults', () => {
    const all = () => true;
    expect(codecOf('message M { string s = 1; int32 n = 2; }').compileSplicer!(codecOf('message M { string s = 1; int32 n = 2; }'), [null], [all])).toBeNull();
    const map = codecOf('message M { map<string, string> m = 1; }');
    const byName = (name: string) => (f: FieldInfo) => f.fullName === name;
    expect(map.compileSplicer!(map, [null], [byName('p.M.MEntry.key')])).toBeNull();
    expect(map.compileSplicer!(map, [null], [byName('p.M.MEntry.value')])).not.toBeNull();
    const proto2 = createProtobufCodec({ schemaType: 'PROTOBUF', schema: 'syntax = "proto2"; message M { optional string s = 1 [default = "x"]; }' });
    expect(proto2.compileSplicer!(proto2, [null], [all])).toBeNull();
  });

  it('returns null when nothing is selected, or the target is not Protobuf', () => {
    const read = codecOf(PERSON);
    expect(read.compileSplicer!(read, [null], [() => false])).toBeNull();
    expect(read.compileSplicer!(read, [null], [null])).toBeNull();
  });
});

describe('Protobuf splicer: scan and splice', () => {
  const codec = codecOf(PERSON);
  const splicer = codec.compileSplicer!(codec, [null], [pii])!;

  it('rewrites leaves at depth, growing every enclosing length prefix across varint boundaries', () => {
    let value: Record<string, unknown> = { name: 'x'.repeat(125), home: { street: 'y'.repeat(126), no: 3 } };
    for (let i = 0; i < 5; i++) value = { name: `n${i}`, friend: value, past: [{ street: 'a'.repeat(60 + i) }, { no: 1 }], id: 9 };
    const payload = encode(codec, value);
    const out = wrapAll(splicer, payload)!;
    const wrap = (v: unknown): unknown => {
      if (typeof v !== 'object' || v === null) return v;
      const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const [k, x] of Object.entries(o)) {
        if (k === 'name' || k === 'street') o[k] = `<${x as string}>`;
        else if (Array.isArray(x)) o[k] = x.map(wrap);
        else o[k] = wrap(x);
      }
      return o;
    };
    // Absent implicit strings are visited as "": wrapped to "<>".
    const expected = wrap(decoded(codec, payload));
    expect(decoded(codec, out)).toEqual(expected);
  });

  it('copies unknown fields byte for byte, and takes fields in any order', () => {
    const unknown = Buffer.from([0xb8, 0x06, 0x05, 0xc2, 0x06, 0x02, 0x68, 0x69]); // 103: varint 5, 104: "hi"
    const reordered = Buffer.concat([Buffer.from([0x20, 0x07]), unknown, Buffer.from([0x0a, 0x01, 0x41])]); // id=7, unknown, name="A"
    const out = wrapAll(splicer, reordered)!;
    expect(out.equals(Buffer.concat([Buffer.from([0x20, 0x07]), unknown, Buffer.from([0x0a, 0x03, 0x3c, 0x41, 0x3e])]))).toBe(true);
  });

  it('leaves to the general path: groups, a selected field with another wire type, duplicates, truncation', () => {
    const state = splicer.newState();
    expect(splicer.scan(Buffer.from([0x5b, 0x08, 0x01, 0x5c]), state)).toBe(false); // group 11
    expect(splicer.scan(Buffer.from([0x08, 0x01]), state)).toBe(false); // name as a varint
    expect(splicer.scan(Buffer.from([0x0a, 0x01, 0x41, 0x0a, 0x01, 0x42]), state)).toBe(false); // name twice
    expect(splicer.scan(Buffer.from([0x12, 0x00, 0x12, 0x00]), state)).toBe(false); // home twice (would merge)
    expect(splicer.scan(Buffer.from([0x0a, 0x05, 0x41]), state)).toBe(false); // truncated
    expect(splicer.scan(Buffer.from([0x20]), state)).toBe(false); // truncated varint
    expect(splicer.scan(Buffer.from([0x1a, 0x02, 0x0a, 0x05]), state)).toBe(false); // inner leaf past its frame
    // An untagged nested message is checked too: the general path's decode would fail on it.
    const withUntagged = codecOf(`message T { string s = 1 ${TAG}; Inner inner = 2; map<string, Inner> m = 3; }\nmessage Inner { int32 n = 1; Inner next = 2; }`);
    const t = withUntagged.compileSplicer!(withUntagged, [null], [pii])!;
    const tState = t.newState();
    expect(t.scan(Buffer.from([0x12, 0x02, 0x12, 0x00]), tState)).toBe(true);
    expect(() => withUntagged.decode(Buffer.from([0x12, 0x04, 0x12, 0x02, 0x1f, 0x01]))).toThrow();
    expect(t.scan(Buffer.from([0x12, 0x04, 0x12, 0x02, 0x1f, 0x01]), tState)).toBe(false); // wire type 7 two levels down
    expect(t.scan(Buffer.from([0x1a, 0x03, 0x12, 0x01, 0x08]), tState)).toBe(false); // a map entry's value truncated
    expect(t.scan(Buffer.from([0x1a, 0x05, 0x0a, 0x01, 0x6b, 0x12, 0x00]), tState)).toBe(true);
    // Repeated messages may repeat.
    expect(splicer.scan(Buffer.from([0x1a, 0x00, 0x1a, 0x00]), state)).toBe(true);
    expect(splicer.leafCount).toBe(3); // name (absent) and each past address' street (absent)
  });

  it('proto2: an absent optional string is visited as "" like the walker does (no explicit default)', () => {
    const p2 = createProtobufCodec({ schemaType: 'PROTOBUF', schema: `syntax = "proto2";\npackage p;\nimport "confluent/meta.proto";\nmessage M { optional string s = 1 ${TAG}; optional int32 n = 2; }` });
    const s = p2.compileSplicer!(p2, [null], [pii])!;
    expect(s).not.toBeNull();
    const payload = Buffer.from([0x10, 0x05]);
    const walked = p2.decode(payload);
    p2.compileWalker(pii)!(walked, (v) => `<${v as string}>`);
    expect(decoded(p2, wrapAll(s, payload)!)).toEqual(decoded(p2, p2.encode(walked)));
  });

  it('refuses a value that does not fit its leaf: base64 text for a bytes field, a non-byte value', () => {
    const bytesCodec = codecOf(`message B { bytes b = 1 ${TAG}; }`);
    const s = bytesCodec.compileSplicer!(bytesCodec, [null], [pii])!;
    const state = s.newState();
    expect(s.scan(Buffer.from([0x0a, 0x01, 0x41]), state)).toBe(true);
    state.base64[0] = 1;
    expect(s.splice(Buffer.from([0x0a, 0x01, 0x41]), state, Buffer.alloc(0))).toBeUndefined();
    state.base64[0] = 0;
    state.values[0] = 42;
    expect(s.splice(Buffer.from([0x0a, 0x01, 0x41]), state, Buffer.alloc(0))).toBeUndefined();
    state.values[0] = Buffer.from('xyz');
    expect(s.splice(Buffer.from([0x0a, 0x01, 0x41]), state, Buffer.from([9]))!.equals(Buffer.from([9, 0x0a, 0x03, 0x78, 0x79, 0x7a]))).toBe(true);
  });
});
