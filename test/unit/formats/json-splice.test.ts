/**
 * Field surgery on JSON text (src/formats/json-splice.ts), against the general path as the oracle: the
 * codec's decode, the compiled walkers with the same rules, and encode. On a compact input (what
 * JSON.stringify writes) the two outputs are byte-equal; on any other input they parse equal.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCodec, type Codec, type FieldInfo, type FieldSplicer } from '../../../src/formats/index.js';
import { schemaOf, shapes, text, valueOf } from './json-splice-gen.js';

const byTag = (tag: string) => (f: FieldInfo): boolean => f.inlineTags.includes(tag);
const jsonCodec = (schema: unknown): Codec => createCodec({ schemaType: 'JSON', schema: typeof schema === 'string' ? schema : JSON.stringify(schema) });

/**
 * The rules' stand-ins: a read step that changes a value's bytes (to any bytes, UTF-8 or not), a write
 * step that "encrypts" them. A plaintext that is not UTF-8 is only written by a read step alone: between
 * two steps the general path passes a string (U+FFFD for bad bytes), the kernel's splice the bytes.
 */
interface Rules {
  readonly readExtra: Uint8Array;
}
const readBytes = (r: Rules, v: Uint8Array): Buffer => Buffer.concat([r.readExtra, v, r.readExtra]);
const writeBytes = (v: Uint8Array): Buffer => Buffer.concat([Buffer.from([v.length & 0xff]), Buffer.from(v).map((b) => b ^ 0x5a)]);

/** The general path: decode, the read rule's walk, the write rule's walk, encode. */
function general(read: Codec, write: Codec, payload: Buffer, rules: Rules): Buffer {
  let value = read.decode(payload);
  const readWalk = read.compileWalker(byTag('R'));
  if (readWalk) value = readWalk(value, (v) => (typeof v === 'string' ? readBytes(rules, Buffer.from(v, 'utf8')).toString('utf8') : v));
  const writeWalk = writeSelect(rules) === null ? null : write.compileWalker(byTag('W'));
  if (writeWalk) value = writeWalk(value, (v) => (typeof v === 'string' ? writeBytes(Buffer.from(v, 'utf8')).toString('base64') : v));
  return write.encode(value);
}

/** The same rules on the splicer, as the engine's kernel drives it; undefined when the payload does not scan. */
function spliced(splicer: FieldSplicer, payload: Buffer, rules: Rules): Buffer | undefined {
  const state = splicer.newState();
  if (!splicer.scan(payload, state)) return undefined;
  const values = state.values as (Uint8Array | null)[];
  for (const leaf of splicer.read[0]!) {
    const v = values[leaf.index];
    if (v !== null && v !== undefined) values[leaf.index] = readBytes(rules, v);
  }
  for (const leaf of splicer.write[0] ?? []) {
    const v = values[leaf.index];
    if (v === null || v === undefined) continue;
    values[leaf.index] = writeBytes(v);
    state.base64[leaf.index] = 1;
  }
  return splicer.splice(payload, state, Buffer.alloc(0));
}

const writeSelect = (r: Rules) => (isUtf8(r.readExtra) ? byTag('W') : null);
const rules = fc.record({ readExtra: fc.oneof(fc.uint8Array({ maxLength: 6 }), text.map((t) => new Uint8Array(Buffer.from(t, 'utf8')))) });

describe('JSON splicer against the general path (property)', () => {
  it('random schemas and values: byte-equal on compact input, parse-equal on pretty input', () => {
    let applied = 0;
    let runs = 0;
    const cases = shapes.chain((shape) => fc.tuple(fc.constant(shape), valueOf(shape), rules));
    fc.assert(
      fc.property(cases, ([shape, value, r]) => {
        runs++;
        const codec = jsonCodec(schemaOf(shape));
        const splicer = codec.compileSplicer!(codec, [byTag('R')], [writeSelect(r)]);
        if (splicer === null) return;
        applied++;
        const compact = Buffer.from(JSON.stringify(value), 'utf8');
        const oracle = general(codec, codec, compact, r);
        const ours = spliced(splicer, compact, r);
        expect(ours, 'a valid payload scans').toBeDefined();
        expect(ours!.toString('utf8')).toBe(oracle.toString('utf8'));
        expect(ours!.equals(oracle)).toBe(true);
        const pretty = Buffer.from(JSON.stringify(value, null, 2), 'utf8');
        const oursPretty = spliced(splicer, pretty, r);
        expect(oursPretty).toBeDefined();
        expect(JSON.parse(oursPretty!.toString('utf8'))).toEqual(JSON.parse(general(codec, codec, pretty, r).toString('utf8')));
      }),
      { numRuns: 1500 },
    );
    // Random schemas that select nothing, or a leaf in an array, have no splicer; enough of them do.
    expect(applied).toBeGreaterThan(runs / 4);
  });

  it('a damaged payload never scans when the general path cannot parse it', () => {
    const cases = shapes.chain((shape) => fc.tuple(fc.constant(shape), valueOf(shape), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('cut', 'set', 'insert')));
    fc.assert(
      fc.property(cases, ([shape, value, at, byte, how]) => {
        const codec = jsonCodec(schemaOf(shape));
        const splicer = codec.compileSplicer!(codec, [byTag('R')], [byTag('W')]);
        if (splicer === null) return;
        const good = Buffer.from(JSON.stringify(value, null, at % 3), 'utf8');
        const i = at % good.length;
        const bad = how === 'cut' ? good.subarray(0, i)
          : how === 'set' ? Buffer.concat([good.subarray(0, i), Buffer.from([byte]), good.subarray(i + 1)])
            : Buffer.concat([good.subarray(0, i), Buffer.from([byte]), good.subarray(i)]);
        let parses = true;
        try {
          codec.decode(bad);
        } catch {
          parses = false;
        }
        if (!parses) expect(splicer.scan(bad, splicer.newState())).toBe(false);
      }),
      { numRuns: 600 },
    );
  });
});

describe('JSON splicer: cases', () => {
  const schema = {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string', 'confluent:tags': ['R', 'W'] },
      address: { $ref: '#/$defs/Address' },
      list: { type: 'array', items: { type: 'string' } },
    },
    $defs: { Address: { type: 'object', properties: { street: { type: 'string', 'confluent:tags': ['R', 'W'] }, zip: { type: ['string', 'null'], 'confluent:tags': ['W'] } } } },
  };
  const codec = jsonCodec(schema);
  const splicer = codec.compileSplicer!(codec, [byTag('R')], [byTag('W')])!;
  const scanOf = (text: string) => {
    const state = splicer.newState();
    return splicer.scan(Buffer.from(text, 'utf8'), state) ? state : undefined;
  };

  it('lists the leaves per rule, with the walker\'s full names', () => {
    expect(splicer.read[0]!.map((l) => l.info.fullName)).toEqual(['$.name', '$.address.street']);
    expect(splicer.write[0]!.map((l) => l.info.fullName)).toEqual(['$.name', '$.address.street', '$.address.zip']);
  });

  it('hands out string values unescaped, as UTF-8', () => {
    const state = scanOf('{"name":"a\\"b\\\\c\\u0041\\ud83d\\ude00\\ud800", "address": {"zip": null, "street": "ünï 😀"}}')!;
    expect(state).toBeDefined();
    const [name, street, zip] = splicer.write[0]!.map((l) => state.values[l.index]);
    expect(Buffer.from(name as Uint8Array).toString('utf8')).toBe('a"b\\cA😀\ufffd');
    expect(Buffer.from(street as Uint8Array).toString('utf8')).toBe('ünï 😀');
    expect(zip).toBeNull();
  });

  it('matches escaped keys', () => {
    const state = scanOf('{"n\\u0061me":"x"}')!;
    expect(Buffer.from(state.values[splicer.read[0]![0]!.index] as Uint8Array).toString()).toBe('x');
  });

  it('refuses duplicates and unexpected types on planned paths, malformed text and a byte order mark', () => {
    for (const bad of [
      '{"name":"a","name":"b"}', '{"address":{"street":"a","street":"b"}}', '{"name":5}', '{"name":{"x":1}}', '{"address":"x"}',
      '{"address":[]}', '{"name":"a"', '{"name":"a"} x', '{"name":"\u0001"}', '{"id":01}', '{"id":1.}', '{"id":-}', '{"id":tru}',
      '{"list":[1,]}', '{,}', '\ufeff{"name":"a"}', '{"name":"\\x"}', '{"name":"\\u12G4"}',
    ]) {
      expect(scanOf(bad), bad).toBeUndefined();
    }
    const invalidUtf8 = Buffer.concat([Buffer.from('{"id":1,"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(splicer.scan(invalidUtf8, splicer.newState())).toBe(false);
    // Duplicates off the planned paths are the general path's business only where they matter.
    expect(scanOf(' {"x":1,"x":2,"address":null,"name":null} \n')).toBeDefined();
  });

  it('writes a new value as JSON.stringify does, an untouched one as it was', () => {
    const text = '{ "name" : "\\u0041", "address": { "street": "s" } }';
    const state = scanOf(text)!;
    const street = splicer.read[0]![1]!.index;
    state.values[street] = Buffer.from([0x22, 0x5c, 0x0a, 0x01, 0xff, 0x41]);
    const out = splicer.splice(Buffer.from(text), state, Buffer.from([0, 0, 0, 0, 7]))!;
    expect(out.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 7]));
    expect(out.subarray(5).toString()).toBe('{ "name" : "\\u0041", "address": { "street": "\\"\\\\\\n\\u0001\ufffdA" } }');
  });

  it('refuses a value for a leaf the payload does not have, and a value of another type', () => {
    const state = scanOf('{"id":1}')!;
    state.values[0] = Buffer.from('x');
    expect(splicer.splice(Buffer.from('{"id":1}'), state, Buffer.alloc(0))).toBeUndefined();
    const other = scanOf('{"name":"a"}')!;
    other.values[0] = 42;
    expect(splicer.splice(Buffer.from('{"name":"a"}'), other, Buffer.alloc(0))).toBeUndefined();
  });

  it('does not apply where the walk depends on the value or the leaf is not a plain string', () => {
    const none = (s: unknown) => jsonCodec(s).compileSplicer!(jsonCodec(s), [byTag('R')], [byTag('W')]);
    const tagged = { type: 'string', 'confluent:tags': ['R'] };
    expect(none({ type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, prefixItems: [{ type: 'integer' }], 'confluent:tags': ['R'] } } })).toBeNull();
    expect(none({ type: 'object', properties: { a: { type: ['array', 'string'], items: { type: 'string' }, 'confluent:tags': ['R'] } } })).toBeNull();
    expect(none({ type: 'object', properties: { a: { oneOf: [{ type: 'object', properties: { b: tagged } }, { type: 'null' }] } } })).toBeNull();
    expect(none({ type: 'object', properties: { a: { type: 'string', enum: ['x'], 'confluent:tags': ['R'] } } })).toBeNull();
    expect(none({ type: 'object', properties: { a: { type: ['string', 'integer'], 'confluent:tags': ['R'] } } })).toBeNull();
    expect(none({ $defs: { N: { type: 'object', properties: { s: tagged, next: { $ref: '#/$defs/N' } } } }, $ref: '#/$defs/N' })).toBeNull();
    expect(none({ type: 'object', properties: { a: { type: 'string' } } })).toBeNull();
    // oneOf / arrays with nothing selected under them are skipped, not refused.
    expect(none({ type: 'object', properties: { s: tagged, a: { oneOf: [{ type: 'string' }, { type: 'integer' }] }, l: { type: 'array', items: { type: 'string' } } } })).not.toBeNull();
    expect(codec.compileSplicer!(createCodec({ schemaType: 'AVRO', schema: '"string"' }), [byTag('R')], [byTag('W')])).toBeNull();
  });

  it('arrays: items up to the slots, null items, nested; a longer array takes the general path', () => {
    const item = { type: 'object', properties: { s: { type: ['string', 'null'], 'confluent:tags': ['R', 'W'] }, n: { type: 'integer' } } };
    const c = jsonCodec({ type: 'object', properties: { list: { type: 'array', items: item }, tags: { type: 'array', items: { type: 'string' }, 'confluent:tags': ['W'] } } });
    const s = c.compileSplicer!(c, [byTag('R')], [byTag('W')])!;
    expect(s).not.toBeNull();
    expect(s.write[0]!.map((l) => l.info.fullName)).toEqual([...Array<string>(8).fill('$.list.s'), ...Array<string>(8).fill('$.tags')]);
    const r: Rules = { readExtra: Buffer.from('é') };
    for (const value of [
      { list: [{ s: 'a', n: 1 }, null, { n: 2 }, { s: null }], tags: ['x', 'y"z'] },
      { list: [], tags: Array.from({ length: 8 }, (_, i) => `t${i}`) },
      { list: null, tags: null },
    ]) {
      const payload = Buffer.from(JSON.stringify(value), 'utf8');
      expect(spliced(s, payload, r)!.toString('utf8')).toBe(general(c, c, payload, r).toString('utf8'));
    }
    expect(s.scan(Buffer.from(JSON.stringify({ tags: Array.from({ length: 9 }, () => 't') })), s.newState())).toBe(false);
    expect(s.scan(Buffer.from('{"tags":[1]}'), s.newState())).toBe(false);
    expect(s.scan(Buffer.from('{"tags":{}}'), s.newState())).toBe(false);
    expect(s.scan(Buffer.from('{"tags":["a",]}'), s.newState())).toBe(false);
  });

  it('a recursive schema: spliced when nothing is selected in its recursive part', () => {
    const tree = { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/Tree' } } } };
    const c = jsonCodec({
      type: 'object', $defs: { Tree: tree },
      properties: { owner: { type: 'string', 'confluent:tags': ['R', 'W'] }, tree: { $ref: '#/$defs/Tree' } },
    });
    const s = c.compileSplicer!(c, [byTag('R')], [byTag('W')])!;
    expect(s).not.toBeNull();
    type Tree = { label: string; children?: Tree[] };
    const trees: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
      t: fc.record({ label: text, children: fc.array(tie('t'), { maxLength: 3 }) }, { requiredKeys: ['label'] }),
    })).t;
    fc.assert(
      fc.property(fc.record({ owner: text, tree: trees }), rules.filter((r) => isUtf8(r.readExtra)), (value, r) => {
        const payload = Buffer.from(JSON.stringify(value), 'utf8');
        expect(spliced(s, payload, r)!.equals(general(c, c, payload, r))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('another target schema: each side\'s rule selects by its own schema\'s tags', () => {
    const target = jsonCodec({ type: 'object', properties: { name: { type: 'string' }, other: { type: 'string', 'confluent:tags': ['W'] } } });
    const s = codec.compileSplicer!(target, [byTag('R')], [byTag('W')])!;
    expect(s.write[0]!.map((l) => l.info.fullName)).toEqual(['$.other']);
    fc.assert(
      fc.property(fc.record({ name: text, other: text, id: fc.integer() }, { requiredKeys: [] }), rules.filter((r) => isUtf8(r.readExtra)), (value, r) => {
        const payload = Buffer.from(JSON.stringify(value), 'utf8');
        expect(spliced(s, payload, r)!.equals(general(codec, target, payload, r))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
