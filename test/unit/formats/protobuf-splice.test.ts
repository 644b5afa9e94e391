/**
 * Field surgery on encoded Protobuf (src/formats/protobuf-splice.ts) against the general path, the oracle:
 * decode, walk (compileWalker), encode. On random proto3 schemas (nested and recursive messages, repeated,
 * maps, oneofs, proto3 optional, string and bytes leaves tagged or not, unknown fields, fields out of
 * order) and random values,
 * with a deterministic fake cipher, encrypting, decrypting and re-encrypting through the splicer must give
 * payloads that decode to the same values as the general path's, with the same number of field operations.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { createProtobufCodec, type FieldInfo, type FieldSelect, type FieldSplicer, type ProtobufCodec } from '../../../src/formats/index.js';

// ---------------------------------------------------------------------------------------------------
// A deterministic stand-in for a field cipher: a header, then the bytes reversed and masked.

function fake(plain: Uint8Array, mask = 0x5a): Buffer {
  const out = Buffer.alloc(plain.length + 2);
  out[0] = 0xc1;
  out[1] = mask;
  for (let i = 0; i < plain.length; i++) out[2 + i] = plain[plain.length - 1 - i]! ^ mask;
  return out;
}

function unfake(cipher: Uint8Array): Buffer {
  if (cipher.length < 2 || cipher[0] !== 0xc1) throw new Error('not a fake ciphertext');
  const mask = cipher[1]!;
  const n = cipher.length - 2;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = cipher[2 + n - 1 - i]! ^ mask;
  return out;
}

type Transform = (bytes: Uint8Array) => Buffer;
const encryptWith = (mask: number): Transform => (b) => fake(b, mask);

// ---------------------------------------------------------------------------------------------------
// Random schemas

type Scalar = 'string' | 'bytes' | 'int32' | 'int64' | 'bool' | 'double' | 'fixed32' | 'sint64' | 'Color';
interface FieldSpec {
  name: string;
  id: number;
  type: Scalar | { message: number } | { map: Scalar | { message: number }; key: 'string' | 'int32' };
  label: 'singular' | 'repeated' | 'optional' | 'oneof';
  tagged: boolean;
}
interface MessageSpec { fields: FieldSpec[] }
interface SchemaSpec { messages: MessageSpec[] }

const SCALARS: Scalar[] = ['string', 'bytes', 'int32', 'int64', 'bool', 'double', 'fixed32', 'sint64', 'Color'];
const isLeafType = (t: FieldSpec['type']): boolean => t === 'string' || t === 'bytes';

/** Up to 4 messages; message i refers to messages after it, and to itself (recursion, depth-bounded in values). */
const schemaArb: fc.Arbitrary<SchemaSpec> = fc.integer({ min: 1, max: 4 }).chain((count) =>
  fc.tuple(
    ...Array.from({ length: count }, (_, m) =>
      fc.array(
        fc.record({
          kind: fc.constantFrom('scalar', 'scalar', 'leaf', 'leaf', 'leaf', 'message', 'map'),
          scalar: fc.constantFrom(...SCALARS),
          leaf: fc.constantFrom<Scalar>('string', 'bytes'),
          target: fc.integer({ min: m, max: count - 1 }),
          mapValue: fc.constantFrom('string', 'bytes', 'int32', 'message'),
          mapKey: fc.constantFrom<'string' | 'int32'>('string', 'int32'),
          label: fc.constantFrom<FieldSpec['label']>('singular', 'singular', 'repeated', 'optional', 'oneof'),
          tagged: fc.boolean(),
          id: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 20000 })),
        }),
        { minLength: 1, maxLength: 7 },
      ).map((raw) => {
        const used = new Set<number>();
        const fields: FieldSpec[] = [];
        raw.forEach((r, i) => {
          let id = r.id;
          while (used.has(id) || (id >= 19000 && id <= 19999)) id++;
          used.add(id);
          let type: FieldSpec['type'];
          if (r.kind === 'scalar') type = r.scalar;
          else if (r.kind === 'leaf') type = r.leaf;
          else if (r.kind === 'message') type = { message: r.target };
          else type = { map: r.mapValue === 'message' ? { message: r.target } : (r.mapValue as Scalar), key: r.mapKey };
          let label = r.label;
          if (typeof type === 'object' && 'map' in type) label = 'singular';
          if (label === 'optional' && typeof type === 'object') label = 'singular';
          fields.push({ name: `f${i}`, id, type, label, tagged: r.tagged });
        });
        return { fields };
      }),
    ),
  ).map((messages) => ({ messages })),
);

function typeName(t: Scalar | { message: number }): string {
  return typeof t === 'string' ? t : `M${t.message}`;
}

function protoOf(spec: SchemaSpec): string {
  const lines = ['syntax = "proto3";', 'package rnd;', 'import "confluent/meta.proto";', 'enum Color { RED = 0; GREEN = 1; BLUE = 2; }'];
  spec.messages.forEach((m, i) => {
    lines.push(`message M${i} {`);
    const oneof = m.fields.filter((f) => f.label === 'oneof');
    for (const f of m.fields) {
      if (f.label === 'oneof') continue;
      const tag = f.tagged && isLeafType(f.type) ? ' [(confluent.field_meta).tags = "PII"]' : '';
      if (typeof f.type === 'object' && 'map' in f.type) {
        lines.push(`  map<${f.type.key}, ${typeName(f.type.map)}> ${f.name} = ${f.id};`);
      } else {
        const label = f.label === 'repeated' ? 'repeated ' : f.label === 'optional' ? 'optional ' : '';
        lines.push(`  ${label}${typeName(f.type)} ${f.name} = ${f.id}${tag};`);
      }
    }
    if (oneof.length > 0) {
      lines.push('  oneof choice {');
      for (const f of oneof) {
        const tag = f.tagged && isLeafType(f.type) ? ' [(confluent.field_meta).tags = "PII"]' : '';
        lines.push(`    ${typeName(f.type as Scalar | { message: number })} ${f.name} = ${f.id}${tag};`);
      }
      lines.push('  }');
    }
    lines.push('}');
  });
  return lines.join('\n');
}

/** Map values are selected by full name (their tags come only from metadata): the tagged maps' values. */
function selectorOf(spec: SchemaSpec): FieldSelect {
  const names = new Set<string>();
  spec.messages.forEach((m, i) => {
    for (const f of m.fields) {
      if (f.tagged && typeof f.type === 'object' && 'map' in f.type && isLeafType(f.type.map as FieldSpec['type'])) {
        const entry = f.name.replace(/^./, (c) => c.toUpperCase());
        names.add(`rnd.M${i}.${entry}Entry.value`);
      }
    }
  });
  return (f: FieldInfo) => f.inlineTags.includes('PII') || names.has(f.fullName);
}

// ---------------------------------------------------------------------------------------------------
// Random values (from a seed: their shape follows the schema)

class Rng {
  constructor(private x: number) { this.x = x >>> 0 || 1; }
  next(): number {
    this.x ^= this.x << 13;
    this.x ^= this.x >>> 17;
    this.x ^= this.x << 5;
    return (this.x >>>= 0);
  }
  below(n: number): number { return this.next() % n; }
}

const CHARS = ['a', 'Z', '0', ' ', '\u0000', 'é', 'Ж', '€', '中', '😀'];
const LENGTHS = [0, 0, 1, 3, 10, 40, 62, 63, 64, 95, 96, 127, 128, 200];

function randomText(r: Rng): string {
  const n = LENGTHS[r.below(LENGTHS.length)]!;
  let s = '';
  for (let i = 0; i < n; i++) s += CHARS[r.below(CHARS.length)]!;
  return s;
}

function randomScalar(t: Scalar, r: Rng): unknown {
  switch (t) {
    case 'string': return randomText(r);
    case 'bytes': return Buffer.from(Array.from({ length: LENGTHS[r.below(LENGTHS.length)]! }, () => r.below(256)));
    case 'int32': return r.below(3) === 0 ? -r.below(1000) : r.next() | 0;
    case 'int64': case 'sint64': return String(r.below(2) === 0 ? -r.next() * 1000 : r.next());
    case 'bool': return r.below(2) === 0;
    case 'double': return r.next() / 7;
    case 'fixed32': return r.next();
    case 'Color': return r.below(3);
  }
}

function randomMessage(spec: SchemaSpec, index: number, r: Rng, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const m = spec.messages[index]!;
  const oneof = m.fields.filter((f) => f.label === 'oneof');
  const chosen = oneof.length > 0 && r.below(3) > 0 ? oneof[r.below(oneof.length)] : undefined;
  const valueOf = (t: Scalar | { message: number }): unknown => (typeof t === 'string' ? randomScalar(t, r) : randomMessage(spec, t.message, r, depth + 1));
  const canNest = (t: Scalar | { message: number }) => typeof t === 'string' || depth < 3;
  for (const f of m.fields) {
    if (f.label === 'oneof' && f !== chosen) continue;
    if (typeof f.type === 'object' && 'map' in f.type) {
      const inner = f.type.map;
      if (!canNest(inner) || r.below(4) === 0) continue;
      const map: Record<string, unknown> = {};
      for (let i = r.below(4); i > 0; i--) map[f.type.key === 'string' ? randomText(r) : String(r.next() | 0)] = valueOf(inner);
      out[f.name] = map;
      continue;
    }
    const t = f.type;
    if (!canNest(t)) continue;
    if (f.label === 'repeated') {
      if (r.below(4) > 0) out[f.name] = Array.from({ length: r.below(4) }, () => valueOf(t));
    } else if (f.label === 'oneof' || r.below(4) > 0) out[f.name] = valueOf(t);
  }
  return out;
}

/** A varint field 19500 and a length-delimited field 19501: numbers no generated schema uses. */
const UNKNOWN_VARINT = Buffer.from([0xe0, 0xe1, 0x09, 0x96, 0x01]);
const UNKNOWN_STRING = Buffer.from([0xea, 0xe1, 0x09, 0x03, 0x61, 0x62, 0x63]);

/** The payload's top-level fields in another order (both paths get the same input: repeated fields' order changes alike). */
function shuffleFields(payload: Buffer, r: Rng): Buffer {
  const reader = protobuf.Reader.create(payload);
  const fields: Buffer[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    reader.skipType(reader.uint32() & 7);
    fields.push(payload.subarray(start, reader.pos));
  }
  for (let i = fields.length - 1; i > 0; i--) {
    const j = r.below(i + 1);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  return Buffer.concat(fields);
}

// ---------------------------------------------------------------------------------------------------
// The two paths

interface Paths { codec: ProtobufCodec; select: FieldSelect }

/** The general path: decode, walk with the selector, encode. Returns the payload and the fields visited. */
function general({ codec, select }: Paths, payload: Buffer, decrypt: Transform | null, encrypt: Transform | null): [Buffer, number] {
  const walker = codec.compileWalker(select);
  let visits = 0;
  let value = codec.decode(payload);
  const step = (t: Transform, inbound: boolean) => (v: unknown, f: FieldInfo): unknown => {
    if (v === null || v === undefined) return v;
    visits++;
    if (f.kind === 'bytes') return t(v as Uint8Array);
    const s = v as string;
    return inbound ? t(Buffer.from(s, 'base64')).toString('utf8') : t(Buffer.from(s, 'utf8')).toString('base64');
  };
  if (walker !== null && decrypt !== null) value = walker(value, step(decrypt, true));
  if (walker !== null && encrypt !== null) value = walker(value, step(encrypt, false));
  return [codec.encode(value), visits];
}

/** The splice path, doing to the leaves' encoded values what the engine's kernel does. */
function spliced(splicer: FieldSplicer, payload: Buffer, decrypt: Transform | null, encrypt: Transform | null): [Buffer, number] | 'no-scan' {
  const state = splicer.newState();
  if (!splicer.scan(payload, state)) return 'no-scan';
  const values = state.values as Buffer[];
  let visits = 0;
  if (decrypt !== null) {
    for (const leaf of splicer.read[0]!) {
      const v = values[leaf.index]!;
      values[leaf.index] = decrypt(leaf.info.kind === 'string' ? Buffer.from(v.toString('latin1'), 'base64') : v);
      visits++;
    }
  }
  if (encrypt !== null) {
    for (const leaf of splicer.write[0]!) {
      values[leaf.index] = encrypt(values[leaf.index]!);
      if (leaf.info.kind === 'string') state.base64[leaf.index] = 1;
      visits++;
    }
  }
  const prefix = Buffer.from([0, 0, 0, 0, 7, 0]);
  const out = splicer.splice(payload, state, prefix);
  expect(out).toBeDefined();
  expect(out!.subarray(0, prefix.length).equals(prefix)).toBe(true);
  return [out!.subarray(prefix.length), visits];
}

const view = (codec: ProtobufCodec, payload: Buffer): unknown =>
  codec.messageType.toObject(codec.decode(payload) as protobuf.Message, { longs: String, bytes: String, defaults: true });

// ---------------------------------------------------------------------------------------------------

describe('Protobuf splicer against the general path (property)', () => {
  it('encrypts, decrypts and re-encrypts random schemas and values like decode+walk+encode', () => {
    let withSplicer = 0;
    fc.assert(
      fc.property(schemaArb, fc.integer(), fc.boolean(), fc.boolean(), (spec, seed, unknown, shuffled) => {
        const codec = createProtobufCodec({ schemaType: 'PROTOBUF', schema: protoOf(spec) });
        const select = selectorOf(spec);
        const paths: Paths = { codec, select };
        const encrypting = codec.compileSplicer!(codec, [null], [select]);
        expect(encrypting === null).toBe(codec.compileWalker(select) === null);
        if (encrypting === null) return;
        withSplicer++;
        const decrypting = codec.compileSplicer!(codec, [select], [null])!;
        const reencrypting = codec.compileSplicer!(codec, [select], [select])!;
        const type = codec.messageType;
        const rng = new Rng(seed);
        const value = randomMessage(spec, 0, rng, 0);
        let plain: Buffer = Buffer.from(type.encode(type.fromObject(value)).finish());
        if (unknown) plain = Buffer.concat([plain, UNKNOWN_VARINT, UNKNOWN_STRING]);
        if (shuffled) plain = shuffleFields(plain, rng);

        const [oursEnc, oursEncVisits] = spliced(encrypting, plain, null, encryptWith(0x5a)) as [Buffer, number];
        const [theirsEnc, theirsEncVisits] = general(paths, plain, null, encryptWith(0x5a));
        expect(view(codec, oursEnc)).toEqual(view(codec, theirsEnc));
        expect(oursEncVisits).toBe(theirsEncVisits);
        if (unknown) expect(oursEnc.includes(UNKNOWN_VARINT) && oursEnc.includes(UNKNOWN_STRING)).toBe(true);

        const [oursDec, oursDecVisits] = spliced(decrypting, oursEnc, unfake, null) as [Buffer, number];
        const [theirsDec, theirsDecVisits] = general(paths, theirsEnc, unfake, null);
        expect(view(codec, oursDec)).toEqual(view(codec, theirsDec));
        expect(view(codec, oursDec)).toEqual(view(codec, plain));
        expect(oursDecVisits).toBe(theirsDecVisits);

        const [oursRe] = spliced(reencrypting, oursEnc, unfake, encryptWith(0x33)) as [Buffer, number];
        const [theirsRe] = general(paths, theirsEnc, unfake, encryptWith(0x33));
        expect(view(codec, oursRe)).toEqual(view(codec, theirsRe));
      }),
      { numRuns: 400 },
    );
    // Most random schemas have a selected leaf somewhere: the property is not vacuous.
    expect(withSplicer).toBeGreaterThan(200);
  });
});
