/**
 * Field surgery on encoded Avro (src/formats/avro-splice.ts).
 *
 * The oracle is avsc itself (through the Avro codec): scanning an encoded value must hand out exactly
 * the selected leaves' bytes, and splicing new leaf values must give byte for byte what encoding the
 * value with those leaves replaced gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAvroSplicer, createAvroCodec } from '../../../src/formats/index.js';
import type { AvroCodec, AvroSplicer, AvroSpliceState as SpliceState, FieldInfo } from '../../../src/formats/index.js';
import { bytesOf, FORMATS_URL, runInChild, str, zz } from './avro-bytes.js';

// ---------------------------------------------------------------------------------------------------
// Helpers

const codecOf = (schema: unknown): AvroCodec => createAvroCodec({ schemaType: 'AVRO', schema: JSON.stringify(schema) });

const PII = ['PII'];
const byTag =
  (tag: string) =>
  (f: FieldInfo): boolean =>
    f.inlineTags.includes(tag);
const pii = byTag('PII');

/** Compiles with the PII tag selected on both sides; fails the test when the splicer does not apply. */
function mustCompile(read: AvroCodec, write: AvroCodec = read): AvroSplicer {
  const splicer = compileAvroSplicer(read, write, [pii], [pii]);
  expect(splicer).not.toBeNull();
  return splicer!;
}

/** A record schema with one field of the given type (tagged PII unless told otherwise). */
const oneField = (type: unknown, tags: string[] | null = PII, name = 'Holder') => ({
  type: 'record',
  name,
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: 'int' },
    tags === null ? { name: 'v', type } : { name: 'v', type, 'confluent:tags': tags },
    { name: 'ok', type: 'string', 'confluent:tags': PII },
  ],
});


type Obj = Record<string, unknown>;
const getPath = (v: unknown, path: readonly string[]): unknown => path.reduce<unknown>((o, k) => (o as Obj)[k], v);
function setPath(v: unknown, path: readonly string[], value: unknown): void {
  const parent = getPath(v, path.slice(0, -1)) as Obj;
  parent[path[path.length - 1]!] = value;
}
const leafBytes = (v: unknown): Buffer | null => (v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as Uint8Array));

function scanned(splicer: AvroSplicer, payload: Buffer): SpliceState {
  const state = splicer.newState();
  expect(splicer.scan(payload, state)).toBe(true);
  return state;
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** Characters of 1, 2, 3 and 4 UTF-8 bytes (the last two are surrogate pairs in JS). */
const CHARS = ['a', 'Z', '0', ' ', '"', '\u0000', '\u007f', 'é', 'ß', 'Ж', '\u07ff', '€', '中', '\uffff', '𝄞', '😀'];

/** A deterministic string of exactly `bytes` UTF-8 bytes, mixing multi-byte characters. */
function textOfBytes(bytes: number, seed: number): string {
  let s = '';
  let left = bytes;
  let x = seed >>> 0 || 1;
  while (left > 0) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const c = CHARS[x % CHARS.length]!;
    const n = Buffer.byteLength(c, 'utf8');
    if (n <= left) {
      s += c;
      left -= n;
    } else {
      s += 'a';
      left -= 1;
    }
  }
  return s;
}

/** Byte lengths at and around the varint length boundaries (1 byte up to 63, 2 up to 8191, then 3). */
const BOUNDARY_LENGTHS = [0, 1, 62, 63, 64, 65, 127, 128, 8190, 8191, 8192, 8193];
const sizedText = fc
  .tuple(fc.constantFrom(...BOUNDARY_LENGTHS), fc.integer())
  .map(([n, seed]) => textOfBytes(n, seed));
const sizedBytes = fc.tuple(fc.constantFrom(...BOUNDARY_LENGTHS), fc.integer()).map(([n, seed]) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i * 131) & 0xff;
  return b;
});

/** Valid strings (no lone surrogates: avsc and Buffer encode those differently). */
const shortText = fc.string({ unit: 'binary', maxLength: 12 });
const leafText = fc.oneof({ arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 }, { arbitrary: sizedText, weight: 2 });
const leafBuffer = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)), weight: 3 },
  { arbitrary: sizedBytes, weight: 2 },
);
const shortBuffer = fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;
/** What the codec decodes a long to: a number when safe, a bigint beyond. */
const normLong = (v: number | bigint): number | bigint =>
  typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
const longArb = fc
  .oneof(
    int32,
    fc.maxSafeInteger(),
    fc.bigInt({ min: MIN_LONG, max: MAX_LONG }),
    fc.constantFrom<number | bigint>(MIN_LONG, MAX_LONG, 2n ** 53n, -(2n ** 53n), 2 ** 52, -(2 ** 52), -1, 0),
  )
  .map(normLong);
const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'k', 'é', '中'), maxLength: 4 });
const prefixArb = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.constant(Buffer.from([0, 0, 0, 0, 42])),
  fc.uint8Array({ maxLength: 10 }).map((u) => Buffer.from(u)),
);

// ---------------------------------------------------------------------------------------------------
// Schemas

const NS = 'com.acme';
const itemSchema = {
  type: 'record',
  name: 'Item',
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'note', type: ['null', 'string'] },
  ],
};
const treeSchema = {
  type: 'record',
  name: 'Tree',
  fields: [
    { name: 'label', type: 'string' },
    { name: 'children', type: { type: 'array', items: 'Tree' } },
    { name: 'next', type: ['null', 'Tree'] },
  ],
};
const everythingSchema = {
  type: 'record',
  name: 'Everything',
  namespace: NS,
  fields: [
    { name: 'nothing', type: 'null' },
    { name: 'flag', type: 'boolean' },
    { name: 'count', type: 'int' },
    { name: 'big', type: 'long' },
    { name: 'ratio', type: 'float' },
    { name: 'amount', type: 'double' },
    { name: 'blob', type: 'bytes' },
    { name: 'name', type: 'string', 'confluent:tags': PII },
    { name: 'plain', type: 'string' },
    { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 16 } },
    { name: 'color', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN', 'BLUE'] } },
    { name: 'labels', type: { type: 'array', items: 'string' } },
    { name: 'counters', type: { type: 'map', values: 'long' } },
    { name: 'items', type: { type: 'array', items: itemSchema } },
    { name: 'itemsByKey', type: { type: 'map', values: 'Item' } },
    { name: 'choice', type: ['null', 'int', 'string', 'Item'] },
    { name: 'secret', type: ['null', 'string'], 'confluent:tags': PII },
    { name: 'numeric', type: ['int', 'long'] },
    { name: 'key', type: 'bytes', 'confluent:tags': PII },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string', 'confluent:tags': PII },
          {
            name: 'geo',
            type: {
              type: 'record',
              name: 'Geo',
              fields: [
                { name: 'lat', type: 'double' },
                { name: 'hint', type: ['string', 'null'], 'confluent:tags': PII },
                { name: 'zone', type: 'Color' },
                { name: 'raw', type: ['null', 'bytes'], 'confluent:tags': PII },
              ],
            },
          },
          { name: 'zip', type: 'int' },
        ],
      },
    },
    { name: 'tree', type: treeSchema },
    { name: 'matrix', type: { type: 'array', items: { type: 'map', values: ['null', 'double', 'Digest'] } } },
    { name: 'trailer', type: 'long' },
    { name: 'memo', type: ['null', 'bytes'], 'confluent:tags': PII },
  ],
};

interface Leaf {
  readonly path: readonly string[];
  readonly kind: 'string' | 'bytes';
  readonly nullable: boolean;
  readonly fullName: string;
}
const everythingLeaves: readonly Leaf[] = [
  { path: ['name'], kind: 'string', nullable: false, fullName: 'com.acme.Everything.name' },
  { path: ['secret'], kind: 'string', nullable: true, fullName: 'com.acme.Everything.secret' },
  { path: ['key'], kind: 'bytes', nullable: false, fullName: 'com.acme.Everything.key' },
  { path: ['address', 'street'], kind: 'string', nullable: false, fullName: 'com.acme.Address.street' },
  { path: ['address', 'geo', 'hint'], kind: 'string', nullable: true, fullName: 'com.acme.Geo.hint' },
  { path: ['address', 'geo', 'raw'], kind: 'bytes', nullable: true, fullName: 'com.acme.Geo.raw' },
  { path: ['memo'], kind: 'bytes', nullable: true, fullName: 'com.acme.Everything.memo' },
];

interface TreeValue {
  label: string;
  children: TreeValue[];
  next: TreeValue | null;
}
const treeArb: (depth: number) => fc.Arbitrary<TreeValue> = fc.memo((n) =>
  n <= 1
    ? fc.record({ label: shortText, children: fc.constant([]), next: fc.constant(null) })
    : fc.record({
        label: shortText,
        children: fc.array(treeArb(n - 1), { maxLength: 2 }),
        next: fc.option(treeArb(n - 1), { nil: null }),
      }),
);

function everythingArb(text: fc.Arbitrary<string>, buffer: fc.Arbitrary<Buffer>) {
  const item = fc.record({ sku: shortText, qty: int32, note: fc.option(shortText, { nil: null }) });
  const digest = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((u) => Buffer.from(u));
  const color = fc.constantFrom('RED', 'GREEN', 'BLUE');
  return fc.record({
    nothing: fc.constant(null),
    flag: fc.boolean(),
    count: int32,
    big: longArb,
    ratio: fc.float({ noNaN: true }),
    amount: fc.double({ noNaN: true }),
    blob: shortBuffer,
    name: text,
    plain: shortText,
    digest,
    color,
    labels: fc.array(shortText, { maxLength: 3 }),
    counters: fc.dictionary(keyArb, longArb, { maxKeys: 3, noNullPrototype: true }),
    items: fc.array(item, { maxLength: 3 }),
    itemsByKey: fc.dictionary(keyArb, item, { maxKeys: 2, noNullPrototype: true }),
    choice: fc.oneof(fc.constant(null), int32, shortText, item),
    secret: fc.option(text, { nil: null }),
    numeric: fc.oneof(
      int32.map((int) => ({ int })),
      longArb.map((long) => ({ long })),
    ),
    key: buffer,
    address: fc.record({
      street: text,
      geo: fc.record({
        lat: fc.double({ noNaN: true }),
        hint: fc.option(text, { nil: null }),
        zone: color,
        raw: fc.option(buffer, { nil: null }),
      }),
      zip: int32,
    }),
    tree: treeArb(3),
    matrix: fc.array(
      fc.dictionary(keyArb, fc.oneof(fc.constant(null), fc.double({ noNaN: true }), digest), { maxKeys: 2, noNullPrototype: true }),
      { maxLength: 2 },
    ),
    trailer: longArb,
    memo: fc.option(buffer, { nil: null }),
  });
}

/** Adjacent leaves, a leaf first and last, and a leaf two records down with nothing else around it. */
const edgesSchema = {
  type: 'record',
  name: 'Edges',
  namespace: 'org.edge',
  fields: [
    { name: 'first', type: 'bytes', 'confluent:tags': PII },
    { name: 'second', type: ['null', 'string'], 'confluent:tags': PII },
    { name: 'third', type: 'string', 'confluent:tags': PII },
    {
      name: 'nested',
      type: {
        type: 'record',
        name: 'Wrapper',
        fields: [
          {
            name: 'inner',
            type: { type: 'record', name: 'Inner', fields: [{ name: 'only', type: ['bytes', 'null'], 'confluent:tags': PII }] },
          },
        ],
      },
    },
    { name: 'last', type: 'string', 'confluent:tags': PII },
  ],
};
const edgesLeaves: readonly Leaf[] = [
  { path: ['first'], kind: 'bytes', nullable: false, fullName: 'org.edge.Edges.first' },
  { path: ['second'], kind: 'string', nullable: true, fullName: 'org.edge.Edges.second' },
  { path: ['third'], kind: 'string', nullable: false, fullName: 'org.edge.Edges.third' },
  { path: ['nested', 'inner', 'only'], kind: 'bytes', nullable: true, fullName: 'org.edge.Inner.only' },
  { path: ['last'], kind: 'string', nullable: false, fullName: 'org.edge.Edges.last' },
];
const edgesArb = fc.record({
  first: leafBuffer,
  second: fc.option(leafText, { nil: null }),
  third: leafText,
  nested: fc.record({ inner: fc.record({ only: fc.option(leafBuffer, { nil: null }) }) }),
  last: leafText,
});

const onlySchema = { type: 'record', name: 'Only', fields: [{ name: 'v', type: 'string', 'confluent:tags': PII }] };
const onlyLeaves: readonly Leaf[] = [{ path: ['v'], kind: 'string', nullable: false, fullName: 'Only.v' }];
const onlyArb = fc.record({ v: leafText });

// ---------------------------------------------------------------------------------------------------
// The oracle

type Replacement = { readonly set: unknown; readonly expect: unknown } | 'keep';

function replacementArb(leaf: Leaf): fc.Arbitrary<Replacement> {
  const options: fc.Arbitrary<Replacement>[] = [fc.constant<Replacement>('keep')];
  if (leaf.kind === 'string') {
    options.push(
      leafText.map((s) => ({ set: s, expect: s })),
      leafText.map((s) => ({ set: Buffer.from(s, 'utf8'), expect: s })),
      leafText.map((s) => ({ set: new Uint8Array(Buffer.from(s, 'utf8')), expect: s })),
    );
  } else {
    options.push(
      leafBuffer.map((b) => ({ set: b, expect: b })),
      leafBuffer.map((b) => ({ set: new Uint8Array(b), expect: Buffer.from(b) })),
      // A view into a larger buffer, not at offset 0.
      leafBuffer.map((b) => ({ set: Buffer.concat([Buffer.from([9, 9, 9]), b, Buffer.from([7])]).subarray(3, 3 + b.length), expect: b })),
    );
  }
  if (leaf.nullable) options.push(fc.constant<Replacement>({ set: null, expect: null }));
  return fc.oneof(...options);
}

function checkAgainstAvsc(codec: AvroCodec, leaves: readonly Leaf[], valueArb: fc.Arbitrary<unknown>, numRuns: number): void {
  const splicer = mustCompile(codec);
  expect(splicer.leafCount).toBe(leaves.length);
  const expectedLeaves = leaves.map((l, i) => [i, l.fullName]);
  expect(splicer.read[0]!.map((l) => [l.index, l.info.fullName])).toEqual(expectedLeaves);
  expect(splicer.write[0]!.map((l) => [l.index, l.info.fullName])).toEqual(expectedLeaves);
  const reusedState = splicer.newState();

  fc.assert(
    fc.property(valueArb, fc.tuple(...leaves.map(replacementArb)), prefixArb, fc.boolean(), (value, replacements, prefix, reuse) => {
      const payload = codec.encode(value);
      const copy = Buffer.from(payload);
      const state = reuse ? reusedState : splicer.newState();
      expect(splicer.scan(payload, state)).toBe(true);

      // Scan: each leaf's encoded bytes, as views of the payload, or null.
      leaves.forEach((leaf, i) => {
        const want = leafBytes(getPath(value, leaf.path));
        const got = state.values[i];
        if (want === null) {
          expect(got).toBeNull();
        } else {
          expect(Buffer.isBuffer(got)).toBe(true);
          expect((got as Buffer).equals(want)).toBe(true);
          expect((got as Buffer).buffer).toBe(payload.buffer);
        }
      });

      // Unchanged values: the payload as it is.
      expect(splicer.splice(payload, state, prefix)!.equals(Buffer.concat([prefix, payload]))).toBe(true);

      // New values: what avsc writes for the value with those leaves replaced.
      const expected = codec.decode(payload);
      replacements.forEach((r, i) => {
        if (r === 'keep') return;
        state.values[i] = r.set;
        setPath(expected, leaves[i]!.path, r.expect);
      });
      const out = splicer.splice(payload, state, prefix);
      expect(out).toBeDefined();
      const want = Buffer.concat([prefix, codec.encode(expected)]);
      expect(out!.length).toBe(want.length);
      expect(out!.equals(want)).toBe(true);
      expect(codec.decode(out!.subarray(prefix.length))).toEqual(expected);
      // The input is untouched, and the output scans to the new values.
      expect(payload.equals(copy)).toBe(true);
      const again = scanned(splicer, out!.subarray(prefix.length));
      leaves.forEach((leaf, i) => {
        const v = leafBytes(getPath(expected, leaf.path));
        if (v === null) expect(again.values[i]).toBeNull();
        else expect((again.values[i] as Buffer).equals(v)).toBe(true);
      });
    }),
    { numRuns },
  );
}

describe('compileAvroSplicer: round trip against avsc', () => {
  it('compiles a schema with every Avro type around the leaves, in payload order', () => {
    const codec = codecOf(everythingSchema);
    const splicer = mustCompile(codec);
    expect(splicer.leafCount).toBe(7);
    expect(splicer.read).toHaveLength(1);
    expect(splicer.write).toHaveLength(1);
    expect(splicer.read[0]!.map((l) => l.info.fullName)).toEqual(everythingLeaves.map((l) => l.fullName));
    expect(splicer.read[0]!.map((l) => l.info.kind)).toEqual(everythingLeaves.map((l) => l.kind));
    const state = splicer.newState();
    expect(state.values).toEqual(new Array(7).fill(null));
    expect(state.starts).toHaveLength(7);
    expect(state.ends).toHaveLength(7);
  });

  it('scans and splices values of a schema with every Avro type (fast-check)', () => {
    checkAgainstAvsc(codecOf(everythingSchema), everythingLeaves, everythingArb(leafText, leafBuffer), 150);
  });

  it('scans and splices adjacent leaves, a first and a last leaf, a leaf deep in records (fast-check)', () => {
    checkAgainstAvsc(codecOf(edgesSchema), edgesLeaves, edgesArb, 200);
  });

  it('scans and splices a record that is only the leaf (fast-check)', () => {
    checkAgainstAvsc(codecOf(onlySchema), onlyLeaves, onlyArb, 100);
  });

  it('rewrites a leaf across every varint length boundary, both ways', () => {
    const codec = codecOf({
      type: 'record',
      name: 'Sized',
      fields: [
        { name: 'before', type: 'long' },
        { name: 's', type: 'string', 'confluent:tags': PII },
        { name: 'b', type: ['null', 'bytes'], 'confluent:tags': PII },
        { name: 'after', type: 'string' },
      ],
    });
    const splicer = mustCompile(codec);
    const prefix = Buffer.from([0, 0, 0, 0, 7]);
    for (const from of BOUNDARY_LENGTHS) {
      for (const to of BOUNDARY_LENGTHS) {
        const value = { before: -123456789012, s: textOfBytes(from, from + 1), b: Buffer.alloc(from, 1), after: 'ü' };
        const payload = codec.encode(value);
        const state = scanned(splicer, payload);
        expect((state.values[0] as Buffer).length).toBe(from);
        const s = textOfBytes(to, to + 7);
        state.values[0] = s;
        state.values[1] = Buffer.alloc(to, 2);
        const out = splicer.splice(payload, state, prefix)!;
        const expected = { ...value, s, b: Buffer.alloc(to, 2) };
        expect(out.equals(Buffer.concat([prefix, codec.encode(expected)]))).toBe(true);
        expect(codec.decode(out.subarray(prefix.length))).toEqual(expected);
      }
    }
  });

  it('copies unselected runs of every length around the short-run cutoff, and a long prefix', () => {
    const codec = codecOf({
      type: 'record',
      name: 'Runs',
      fields: [
        { name: 'head', type: 'string' },
        { name: 's', type: 'string', 'confluent:tags': PII },
        { name: 'middle', type: 'bytes' },
        { name: 'b', type: 'bytes', 'confluent:tags': PII },
        { name: 'tail', type: 'string' },
      ],
    });
    const splicer = mustCompile(codec);
    for (const prefix of [Buffer.alloc(0), Buffer.from([0, 0, 0, 0, 9]), Buffer.alloc(100, 0xab)]) {
      for (let run = 0; run <= 130; run += run < 60 || run > 70 ? 13 : 1) {
        const value = { head: 'h'.repeat(run), s: 'x', middle: Buffer.alloc(run, 5), b: Buffer.from([1]), tail: 't'.repeat(run) };
        const payload = codec.encode(value);
        const state = scanned(splicer, payload);
        state.values[0] = 'new s';
        state.values[1] = Buffer.alloc(run, 7);
        const expected = { ...value, s: 'new s', b: Buffer.alloc(run, 7) };
        expect(splicer.splice(payload, state, prefix)!.equals(Buffer.concat([prefix, codec.encode(expected)]))).toBe(true);
      }
    }
  });

  it('swaps null and non-null in nullable leaves with the null branch first or second', () => {
    const codec = codecOf({
      type: 'record',
      name: 'Nullables',
      fields: [
        { name: 'a', type: ['null', 'string'], 'confluent:tags': PII },
        { name: 'b', type: ['string', 'null'], 'confluent:tags': PII },
        { name: 'c', type: ['null', 'bytes'], 'confluent:tags': PII },
        { name: 'd', type: ['bytes', 'null'], 'confluent:tags': PII },
      ],
    });
    const splicer = mustCompile(codec);
    const nulls = { a: null, b: null, c: null, d: null };
    const full = { a: 'ä', b: '€', c: Buffer.from([1]), d: Buffer.from([2, 3]) };
    for (const [from, to] of [
      [nulls, full],
      [full, nulls],
      [nulls, nulls],
    ] as const) {
      const payload = codec.encode(from);
      const state = scanned(splicer, payload);
      expect(state.values).toEqual(Object.values(from).map(leafBytes));
      state.values.splice(0, 4, ...Object.values(to));
      const out = splicer.splice(payload, state, Buffer.alloc(0))!;
      expect(out.equals(codec.encode(to))).toBe(true);
      expect(codec.decode(out)).toEqual(to);
    }
    // The branch index is what the schema says: 0 for the null of ["null", x], 1 for that of [x, "null"].
    expect([...codec.encode(nulls)]).toEqual([0, 2, 0, 2]);
  });

  it('writes a Buffer given for a string leaf as the UTF-8 bytes it holds', () => {
    const codec = codecOf(onlySchema);
    const splicer = mustCompile(codec);
    const payload = codec.encode({ v: 'old' });
    const state = scanned(splicer, payload);
    state.values[0] = Buffer.from('neu – 新', 'utf8');
    expect(splicer.splice(payload, state, Buffer.alloc(0))!.equals(codec.encode({ v: 'neu – 新' }))).toBe(true);
  });

  it('finds leaves in an error-typed nested record and after an empty record', () => {
    const codec = codecOf({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'z', type: { type: 'record', name: 'Empty', fields: [] } },
        { name: 'e', type: { type: 'error', name: 'Failure', fields: [{ name: 'reason', type: 'string', 'confluent:tags': PII }] } },
        { name: 'n', type: 'int' },
      ],
    });
    const splicer = mustCompile(codec);
    expect(splicer.read[0]!.map((l) => l.info.fullName)).toEqual(['Failure.reason']);
    const payload = codec.encode({ z: {}, e: { reason: 'disk full' }, n: -3 });
    const state = scanned(splicer, payload);
    expect((state.values[0] as Buffer).toString()).toBe('disk full');
    state.values[0] = 'redacted';
    expect(splicer.splice(payload, state, Buffer.alloc(0))!.equals(codec.encode({ z: {}, e: { reason: 'redacted' }, n: -3 }))).toBe(true);
  });

  it('skips arrays and maps written in negative-count blocks (count then byte size)', () => {
    const codec = codecOf({
      type: 'record',
      name: 'Blocks',
      fields: [
        { name: 'xs', type: { type: 'array', items: 'string' } },
        { name: 'm', type: { type: 'map', values: 'int' } },
        { name: 's', type: 'string', 'confluent:tags': PII },
      ],
    });
    const splicer = mustCompile(codec);
    const xsBlock = [...str('ab'), ...str('c')];
    const mBlock = [...str('k'), ...zz(-5)];
    // xs: one block of 2 in the negative-count form, then one normal block of 1; m: one negative block.
    const payload = bytesOf(zz(-2), zz(xsBlock.length), xsBlock, zz(1), str('d'), [0], zz(-1), zz(mBlock.length), mBlock, [0], str('secret'));
    expect(codec.decode(payload)).toEqual({ xs: ['ab', 'c', 'd'], m: { k: -5 }, s: 'secret' });
    const state = scanned(splicer, payload);
    expect((state.values[0] as Buffer).toString()).toBe('secret');
    state.values[0] = 'x';
    const out = splicer.splice(payload, state, Buffer.alloc(0))!;
    expect(out.equals(Buffer.concat([payload.subarray(0, payload.length - 7), Buffer.from(str('x'))]))).toBe(true);
    expect(codec.decode(out)).toEqual({ xs: ['ab', 'c', 'd'], m: { k: -5 }, s: 'x' });
  });

  it('reuses one state across payloads: a scan replaces all values of the previous one', () => {
    const codec = codecOf(edgesSchema);
    const splicer = mustCompile(codec);
    const state = splicer.newState();
    const v1 = { first: Buffer.from([1]), second: 'two', third: 'three', nested: { inner: { only: Buffer.from([4]) } }, last: 'five' };
    const v2 = { first: Buffer.from([]), second: null, third: '', nested: { inner: { only: null } }, last: 'LAST' };
    const p1 = codec.encode(v1);
    const p2 = codec.encode(v2);
    expect(splicer.scan(p1, state)).toBe(true);
    state.values[2] = 'changed';
    expect(splicer.scan(p2, state)).toBe(true);
    expect(state.values.map((v) => (v === null ? null : (v as Buffer).toString('latin1')))).toEqual(['', null, '', null, 'LAST']);
    expect(splicer.splice(p2, state, Buffer.alloc(0))!.equals(p2)).toBe(true);
    // A failed scan in between does not stop the next one.
    expect(splicer.scan(p1.subarray(0, 3), state)).toBe(false);
    expect(splicer.scan(p1, state)).toBe(true);
    expect(splicer.splice(p1, state, Buffer.alloc(0))!.equals(p1)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// Selectors

/** Same structure and names as readPerson (same Parsing Canonical Form), other tags, docs, defaults. */
function personSchema(tags: Record<string, string[]>, extras: Obj = {}) {
  const f = (name: string, type: unknown, more: Obj = {}) =>
    tags[name] === undefined ? { name, type, ...more } : { name, type, 'confluent:tags': tags[name], ...more };
  const address = {
    type: 'record',
    name: 'Address',
    fields: [f('street', 'string'), f('city', 'string')],
  };
  return {
    type: 'record',
    name: 'Person',
    namespace: NS,
    ...extras,
    fields: [
      f('id', 'long'),
      f('name', 'string'),
      f('email', ['null', 'string'], { default: null }),
      f('ssn', 'string'),
      f('avatar', 'bytes'),
      f('home', address),
      f('work', 'Address'),
      f('note', 'string'),
    ],
  };
}
const readPerson = personSchema({ name: PII, email: PII, avatar: PII, street: PII });
const writePerson = personSchema(
  { email: ['PII'], ssn: ['PII', 'SSN'], avatar: ['BLOB'], city: ['PII'], note: ['PII'] },
  { doc: 'The write side', aliases: ['Human'] },
);
const person = {
  id: 7,
  name: 'Zoë',
  email: 'z@example.com',
  ssn: '123-45-6789',
  avatar: Buffer.from([0xff, 0xd8]),
  home: { street: 'Hauptstraße 1', city: 'Köln' },
  work: { street: '1 Main St', city: '東京' },
  note: 'likes ☕',
};

describe('compileAvroSplicer: selectors', () => {
  const read = codecOf(readPerson);
  const write = codecOf(writePerson);
  const infoOf = (codec: AvroCodec, fullName: string) => codec.fields().find((f) => f.fullName === fullName);

  it('lists per side the leaves each selector selects, with that side’s field infos', () => {
    expect(read.avroType.fingerprint('md5').equals(write.avroType.fingerprint('md5'))).toBe(true);
    const splicer = compileAvroSplicer(read, write, [pii], [pii])!;
    expect(splicer).not.toBeNull();
    // The leaves are every field selected on either side, in payload order.
    expect(splicer.leafCount).toBe(9);
    const r = splicer.read[0]!;
    const w = splicer.write[0]!;
    expect(r.map((l) => [l.index, l.info.fullName])).toEqual([
      [0, 'com.acme.Person.name'],
      [1, 'com.acme.Person.email'],
      [3, 'com.acme.Person.avatar'],
      [4, 'com.acme.Address.street'],
      [6, 'com.acme.Address.street'],
    ]);
    expect(w.map((l) => [l.index, l.info.fullName])).toEqual([
      [1, 'com.acme.Person.email'],
      [2, 'com.acme.Person.ssn'],
      [5, 'com.acme.Address.city'],
      [7, 'com.acme.Address.city'],
      [8, 'com.acme.Person.note'],
    ]);
    // The infos are the codecs' own, so each side sees its own tags.
    for (const l of r) {
      expect(l.info).toBe(infoOf(read, l.info.fullName));
      expect(l.info.inlineTags).toContain('PII');
    }
    for (const l of w) {
      expect(l.info).toBe(infoOf(write, l.info.fullName));
      expect(l.info.inlineTags).toContain('PII');
    }
    expect(w[1]!.info.inlineTags).toEqual(['PII', 'SSN']);
    expect(r.find((l) => l.index === 1)!.info).not.toBe(w[0]!.info);
    expect(r.map((l) => l.info.kind)).toEqual(['string', 'string', 'bytes', 'string', 'string']);
  });

  it('supports several selectors and null selectors per side', () => {
    const isNote = (f: FieldInfo) => f.fullName === 'com.acme.Person.note';
    const splicer = compileAvroSplicer(read, write, [pii, null, isNote, byTag('NOPE')], [byTag('SSN'), byTag('BLOB'), null])!;
    expect(splicer).not.toBeNull();
    expect(splicer.read).toHaveLength(4);
    expect(splicer.write).toHaveLength(3);
    const names = (ls: readonly { index: number; info: FieldInfo }[]) => ls.map((l) => `${l.index}:${l.info.name}`);
    // Leaves: name, email, ssn, avatar, home.street, work.street, note.
    expect(splicer.leafCount).toBe(7);
    expect(names(splicer.read[0]!)).toEqual(['0:name', '1:email', '3:avatar', '4:street', '5:street']);
    expect(names(splicer.read[1]!)).toEqual([]);
    expect(names(splicer.read[2]!)).toEqual(['6:note']);
    expect(names(splicer.read[3]!)).toEqual([]);
    expect(names(splicer.write[0]!)).toEqual(['2:ssn']);
    expect(names(splicer.write[1]!)).toEqual(['3:avatar']);
    expect(splicer.write[1]![0]!.info.inlineTags).toEqual(['BLOB']);
    expect(names(splicer.write[2]!)).toEqual([]);
  });

  it('calls each side’s selectors with that side’s field infos only', () => {
    const seenRead: FieldInfo[] = [];
    const seenWrite: FieldInfo[] = [];
    compileAvroSplicer(read, write, [(f) => (seenRead.push(f), pii(f))], [(f) => (seenWrite.push(f), pii(f))]);
    expect(seenRead.length).toBeGreaterThan(0);
    expect(seenWrite.length).toBeGreaterThan(0);
    for (const f of seenRead) expect(read.fields()).toContain(f);
    for (const f of seenWrite) expect(write.fields()).toContain(f);
  });

  it('splices leaves selected on the write side only, between schemas with different tags', () => {
    const splicer = compileAvroSplicer(read, write, [null], [byTag('SSN'), byTag('PII')])!;
    expect(splicer).not.toBeNull();
    expect(splicer.read).toEqual([[]]);
    expect(splicer.write[0]!.map((l) => l.info.fullName)).toEqual(['com.acme.Person.ssn']);
    const payload = read.encode(person);
    const state = scanned(splicer, payload);
    const values = state.values.map((v) => (v === null ? null : (v as Buffer).toString('utf8')));
    expect(values).toEqual([person.email, person.ssn, person.home.city, person.work.city, person.note]);
    for (const l of splicer.write[1]!) state.values[l.index] = `<${l.info.name}>`;
    state.values[splicer.write[0]![0]!.index] = Buffer.from('***');
    const out = splicer.splice(payload, state, Buffer.from([0, 0, 0, 0, 2]))!;
    const expected = {
      ...person,
      email: '<email>',
      ssn: '***',
      home: { ...person.home, city: '<city>' },
      work: { ...person.work, city: '<city>' },
      note: '<note>',
    };
    expect(out.equals(Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), write.encode(expected)]))).toBe(true);
    expect(write.decode(out.subarray(5))).toEqual(expected);
  });

  it('applies to one codec used as both sides, and to two codecs of the same schema text', () => {
    const again = codecOf(readPerson);
    const same = compileAvroSplicer(read, read, [pii], [])!;
    const twin = compileAvroSplicer(read, again, [], [pii])!;
    expect(same.read[0]!.map((l) => l.info.fullName)).toEqual(twin.write[0]!.map((l) => l.info.fullName));
    expect(twin.write[0]![0]!.info).toBe(infoOf(again, 'com.acme.Person.name'));
    const payload = read.encode(person);
    expect(scanned(same, payload).values).toEqual(scanned(twin, payload).values);
  });

  it('applies when the write schema differs only in what Avro resolution ignores (docs, defaults, aliases, logical types)', () => {
    const plain = codecOf({ type: 'record', name: 'P', fields: [{ name: 'b', type: 'bytes', 'confluent:tags': PII }, { name: 'u', type: 'string' }] });
    const decorated = codecOf({
      type: 'record',
      name: 'P',
      doc: 'decorated',
      fields: [
        { name: 'b', type: { type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 }, doc: 'amount', 'confluent:tags': ['X'] },
        { name: 'u', type: { type: 'string', logicalType: 'uuid' }, default: '', aliases: ['uuid'] },
      ],
    });
    const splicer = compileAvroSplicer(plain, decorated, [pii], [byTag('X')])!;
    expect(splicer).not.toBeNull();
    expect(splicer.write[0]!.map((l) => l.info.inlineTags)).toEqual([['X']]);
  });

  it('lists a record type used by two fields once per occurrence', () => {
    const splicer = compileAvroSplicer(read, read, [byTag('PII')], [])!;
    const streets = splicer.read[0]!.filter((l) => l.info.fullName === 'com.acme.Address.street');
    expect(streets).toHaveLength(2);
    expect(streets[0]!.info).toBe(streets[1]!.info);
    const payload = read.encode(person);
    const state = scanned(splicer, payload);
    expect(streets.map((l) => (state.values[l.index] as Buffer).toString())).toEqual([person.home.street, person.work.street]);
  });
});

// ---------------------------------------------------------------------------------------------------
// When the shortcut does not apply

describe('compileAvroSplicer: returns null when it cannot apply', () => {
  const apply = (readSchema: unknown, writeSchema: unknown = readSchema) =>
    compileAvroSplicer(codecOf(readSchema), codecOf(writeSchema), [pii], [pii]);

  it('the schemas encode differently (Parsing Canonical Form differs)', () => {
    const base = oneField('string');
    expect(apply(base)).not.toBeNull();
    const withExtra = { ...base, fields: [...base.fields, { name: 'extra', type: 'int', default: 0 }] };
    expect(apply(base, withExtra)).toBeNull();
    expect(apply(withExtra, base)).toBeNull();
    expect(apply(base, { ...base, fields: [...base.fields].reverse() })).toBeNull();
    expect(apply(base, { ...base, fields: base.fields.map((f) => (f.name === 'id' ? { ...f, type: 'long' } : f)) })).toBeNull();
    expect(apply(base, { ...base, fields: base.fields.map((f) => (f.name === 'v' ? { ...f, type: 'bytes' } : f)) })).toBeNull();
    expect(apply(base, { ...base, fields: base.fields.map((f) => (f.name === 'v' ? { ...f, name: 'w' } : f)) })).toBeNull();
    expect(apply(base, { ...base, namespace: 'org.other' })).toBeNull();
    expect(apply(base, oneField('string', PII, 'Renamed'))).toBeNull();
  });

  it('a selected field inside an array, a map or a union with a record branch', () => {
    const inner = { type: 'record', name: 'Inner', fields: [{ name: 's', type: 'string', 'confluent:tags': PII }] };
    const innerUntagged = { type: 'record', name: 'Inner', fields: [{ name: 's', type: 'string' }] };
    const other = { type: 'record', name: 'Other', fields: [{ name: 'n', type: 'int' }] };
    // Positive controls: the same shapes with nothing selected inside apply.
    for (const wrap of [
      (r: unknown) => ({ type: 'array', items: r }),
      (r: unknown) => ({ type: 'map', values: r }),
      (r: unknown) => ['null', r],
      (r: unknown) => [r, other],
      (r: unknown) => ({ type: 'array', items: { type: 'map', values: r } }),
      (r: unknown) => ['null', { type: 'array', items: r }],
    ]) {
      expect(apply(oneField(wrap(innerUntagged), null))).not.toBeNull();
      expect(apply(oneField(wrap(inner), null))).toBeNull();
    }
    // The element itself selected: an array, a map, an array of strings.
    expect(apply(oneField({ type: 'array', items: 'string' }))).toBeNull();
    expect(apply(oneField({ type: 'map', values: 'string' }))).toBeNull();
    expect(apply(oneField({ type: 'array', items: ['null', 'string'] }))).toBeNull();
  });

  it('a selected field inside an array on the write side only', () => {
    const tagged = oneField({ type: 'array', items: { type: 'record', name: 'Inner', fields: [{ name: 's', type: 'string', 'confluent:tags': PII }] } }, null);
    const untagged = oneField({ type: 'array', items: { type: 'record', name: 'Inner', fields: [{ name: 's', type: 'string' }] } }, null);
    expect(apply(untagged, untagged)).not.toBeNull();
    expect(apply(untagged, tagged)).toBeNull();
    expect(apply(tagged, untagged)).toBeNull();
  });

  it('a selected field in a recursive record reached through a union or an array', () => {
    const node = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'label', type: 'string', 'confluent:tags': PII },
        { name: 'next', type: ['null', 'Node'] },
      ],
    };
    expect(apply(node)).toBeNull();
    const listNode = {
      type: 'record',
      name: 'ListNode',
      fields: [
        { name: 'label', type: 'string', 'confluent:tags': PII },
        { name: 'kids', type: { type: 'array', items: 'ListNode' } },
      ],
    };
    expect(apply(listNode)).toBeNull();
    // The recursion below a nested record, selected field above it: still not a plain record path.
    expect(apply(oneField(node, null))).toBeNull();
    // A recursive record with nothing selected is skipped: applies.
    expect(apply(oneField({ ...node, fields: [{ name: 'label', type: 'string' }, node.fields[1]] }, null))).not.toBeNull();
  });

  it('a selected field that is not a string or bytes leaf (optionally nullable)', () => {
    const notLeaves: unknown[] = [
      'int',
      'long',
      'boolean',
      'double',
      'null',
      { type: 'fixed', name: 'F', size: 4 },
      { type: 'enum', name: 'E', symbols: ['A'] },
      { type: 'record', name: 'Rec', fields: [{ name: 'x', type: 'string' }] },
      ['null', 'string', 'int'],
      ['string', 'bytes'],
      ['null', 'int'],
      ['int', 'long'],
      ['null', { type: 'fixed', name: 'F', size: 4 }],
      ['null', { type: 'enum', name: 'E', symbols: ['A'] }],
    ];
    for (const type of notLeaves) {
      expect(apply(oneField(type))).toBeNull();
      expect(apply(oneField(type, null))).not.toBeNull(); // the same schema without the selection applies
    }
    for (const type of ['string', 'bytes', ['null', 'string'], ['bytes', 'null']]) expect(apply(oneField(type))).not.toBeNull();
  });

  it('no leaf is selected', () => {
    const codec = codecOf(oneField('string', null));
    const none = codecOf({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }] });
    expect(compileAvroSplicer(codec, codec, [byTag('NOPE')], [byTag('NOPE')])).toBeNull();
    expect(compileAvroSplicer(codec, codec, [], [])).toBeNull();
    expect(compileAvroSplicer(codec, codec, [null, null], [null])).toBeNull();
    expect(compileAvroSplicer(none, none, [() => false], [() => false])).toBeNull();
    // Positive control: the untagged "ok" field selected by name.
    expect(compileAvroSplicer(codec, codec, [(f) => f.name === 'ok'], [])).not.toBeNull();
  });

  it('the root is not a record', () => {
    const all = () => true;
    const roots: unknown[] = [
      'string',
      'bytes',
      { type: 'array', items: { type: 'record', name: 'R', fields: [{ name: 's', type: 'string' }] } },
      { type: 'map', values: 'string' },
      ['null', { type: 'record', name: 'R', fields: [{ name: 's', type: 'string' }] }],
      ['null', 'string'],
    ];
    for (const root of roots) {
      const codec = codecOf(root);
      expect(compileAvroSplicer(codec, codec, [all], [all])).toBeNull();
    }
    const record = codecOf({ type: 'record', name: 'R', fields: [{ name: 's', type: 'string' }] });
    expect(compileAvroSplicer(record, record, [all], [all])).not.toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------
// Malformed payloads

const smallSchema = {
  type: 'record',
  name: 'Small',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'plain', type: 'string' },
    { name: 'u', type: ['null', 'int', 'string'] },
    { name: 's', type: 'string', 'confluent:tags': PII },
    { name: 'o', type: ['null', 'string'], 'confluent:tags': PII },
    { name: 'xs', type: { type: 'array', items: 'long' } },
    { name: 'm', type: { type: 'map', values: 'int' } },
    { name: 'b', type: 'bytes', 'confluent:tags': PII },
  ],
};
const smallValue = { n: 5, plain: 'p', u: 'x', s: 's', o: 'o', xs: [7], m: { k: -2 }, b: Buffer.from([1, 2]) };
type Parts = Record<keyof typeof smallValue, number[]>;
const smallParts: Parts = {
  n: zz(5),
  plain: str('p'),
  u: [...zz(2), ...str('x')],
  s: str('s'),
  o: [...zz(1), ...str('o')],
  xs: [...zz(1), ...zz(7), 0],
  m: [...zz(1), ...str('k'), ...zz(-2), 0],
  b: str(Buffer.from([1, 2])),
};
const smallPayload = (over: Partial<Parts> = {}): Buffer => {
  const p = { ...smallParts, ...over };
  return bytesOf(p.n, p.plain, p.u, p.s, p.o, p.xs, p.m, p.b);
};
/** 10 continuation bytes, then a last byte: 11 bytes, more than any long. */
const TOO_LONG_VARINT = [...new Array<number>(10).fill(0x80), 0x00];

interface TypeShape {
  readonly typeName: string;
  readonly fields?: readonly { readonly type: TypeShape }[];
  readonly itemsType?: TypeShape;
  readonly valuesType?: TypeShape;
  readonly types?: readonly TypeShape[];
  readonly size?: number;
}

/**
 * An independent strict reader: whether `payload` is exactly one value of the codec's type, with every
 * count, length, union index and negative-count block size consistent and in bounds. (The item-count
 * bound assumes, as in the schemas here, that no array item or map entry takes zero bytes.)
 */
function wellFormed(codec: AvroCodec, payload: Buffer): boolean {
  const MALFORMED = new Error('malformed');
  let pos = 0;
  const varint = (): bigint => {
    let u = 0n;
    for (let i = 0, shift = 0n; ; i++, shift += 7n) {
      if (i >= 10 || pos >= payload.length) throw MALFORMED;
      const b = payload[pos++]!;
      u |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    return (u >> 1n) ^ -(u & 1n);
  };
  const take = (n: bigint): void => {
    if (n < 0n || BigInt(pos) + n > BigInt(payload.length)) throw MALFORMED;
    pos += Number(n);
  };
  const read = (t: TypeShape): void => {
    switch (t.typeName) {
      case 'null':
        return;
      case 'boolean':
        return take(1n);
      case 'int':
      case 'long':
      case 'enum':
        varint();
        return;
      case 'float':
        return take(4n);
      case 'double':
        return take(8n);
      case 'string':
      case 'bytes':
        return take(varint());
      case 'fixed':
        return take(BigInt(t.size!));
      case 'record':
      case 'error':
        for (const f of t.fields!) read(f.type);
        return;
      case 'array':
      case 'map':
        for (;;) {
          let n = varint();
          if (n === 0n) return;
          let end = -1n;
          if (n < 0n) {
            n = -n;
            const size = varint();
            if (size < 0n) throw MALFORMED;
            end = BigInt(pos) + size;
          }
          if (n > BigInt(payload.length - pos)) throw MALFORMED;
          for (let i = 0n; i < n; i++) {
            if (t.typeName === 'map') take(varint());
            read((t.itemsType ?? t.valuesType)!);
          }
          if (end >= 0n && BigInt(pos) !== end) throw MALFORMED;
        }
      case 'union:wrapped':
      case 'union:unwrapped': {
        const i = varint();
        if (i < 0n || i >= BigInt(t.types!.length)) throw MALFORMED;
        return read(t.types![Number(i)]!);
      }
      default:
        throw new Error(`unexpected type ${t.typeName}`);
    }
  };
  try {
    read(codec.avroType as unknown as TypeShape);
    return pos === payload.length;
  } catch (err) {
    if (err === MALFORMED) return false;
    throw err;
  }
}

const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);

/** Whether avsc writes `value` back to exactly `payload`. */
function reencodes(codec: AvroCodec, value: unknown, payload: Buffer): boolean {
  try {
    return codec.encode(value).equals(payload);
  } catch {
    return false; // decoded values avsc does not write back (an int past 32 bits, ...)
  }
}

describe('AvroSplicer.scan: malformed payloads', () => {
  const codec = codecOf(smallSchema);
  const splicer = mustCompile(codec);
  const scan = (payload: Buffer): boolean => splicer.scan(payload, splicer.newState());

  it('the hand-written payload is the encoding of the value and scans', () => {
    expect(smallPayload().equals(codec.encode(smallValue))).toBe(true);
    expect(scan(smallPayload())).toBe(true);
  });

  it('rejects every truncation of valid payloads, without throwing (fast-check)', () => {
    const everything = codecOf(everythingSchema);
    const big = mustCompile(everything);
    const state = big.newState();
    fc.assert(
      fc.property(everythingArb(shortText, shortBuffer), (value) => {
        const payload = everything.encode(value);
        expect(big.scan(payload, state)).toBe(true);
        for (let len = 0; len < payload.length; len++) {
          expect(big.scan(Buffer.from(payload.subarray(0, len)), state)).toBe(false);
        }
      }),
      { numRuns: 40 },
    );
    const payload = smallPayload();
    for (let len = 0; len < payload.length; len++) expect(scan(Buffer.from(payload.subarray(0, len)))).toBe(false);
  });

  it('rejects trailing bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 8 }), (extra) => {
        expect(scan(Buffer.concat([smallPayload(), extra]))).toBe(false);
      }),
    );
  });

  it('rejects a negative string, bytes or map key length, skipped or selected', () => {
    for (const n of [-1, -2, -64, -(2 ** 40)]) {
      expect(scan(smallPayload({ plain: [...zz(n), 0x61] }))).toBe(false);
      expect(scan(smallPayload({ u: [...zz(2), ...zz(n), 0x61] }))).toBe(false);
      expect(scan(smallPayload({ s: [...zz(n), 0x61] }))).toBe(false);
      expect(scan(smallPayload({ o: [...zz(1), ...zz(n), 0x61] }))).toBe(false);
      expect(scan(smallPayload({ m: [...zz(1), ...zz(n), 0x6b, ...zz(1), 0] }))).toBe(false);
      expect(scan(smallPayload({ b: [...zz(n), 1, 2] }))).toBe(false);
    }
  });

  it('rejects a length past the end of the payload', () => {
    expect(scan(smallPayload({ b: [...zz(3), 1, 2] }))).toBe(false);
    expect(scan(smallPayload({ plain: [...zz(2 ** 40), 0x61] }))).toBe(false);
    expect(scan(smallPayload({ s: [...zz(2 ** 53), 0x61] }))).toBe(false);
    expect(scan(smallPayload({ s: zz(MAX_LONG) }))).toBe(false);
  });

  it('rejects an out-of-range union branch index, skipped or selected', () => {
    for (const i of [3, 4, -1, 2 ** 31, -(2 ** 40)]) expect(scan(smallPayload({ u: [...zz(i), ...str('x')] }))).toBe(false);
    for (const i of [2, 3, -1, 2 ** 40]) expect(scan(smallPayload({ o: [...zz(i), ...str('o')] }))).toBe(false);
    // Without a branch value after it either: the rest of the payload would otherwise scan.
    for (const i of [3, -1]) expect(scan(smallPayload({ u: zz(i) }))).toBe(false);
    for (const i of [2, -1]) expect(scan(smallPayload({ o: zz(i) }))).toBe(false);
    expect(scan(smallPayload({ u: zz(0) }))).toBe(true); // the null branch: the control
  });

  it('rejects a varint of more than 10 bytes anywhere, accepts 10 bytes', () => {
    expect(scan(smallPayload({ n: TOO_LONG_VARINT }))).toBe(false);
    expect(scan(smallPayload({ n: [...new Array<number>(12).fill(0xff), 0x01] }))).toBe(false);
    expect(scan(smallPayload({ plain: [...TOO_LONG_VARINT] }))).toBe(false);
    expect(scan(smallPayload({ u: [...TOO_LONG_VARINT, ...str('x')] }))).toBe(false);
    expect(scan(smallPayload({ s: [...TOO_LONG_VARINT] }))).toBe(false);
    expect(scan(smallPayload({ o: [...TOO_LONG_VARINT, ...str('o')] }))).toBe(false);
    expect(scan(smallPayload({ o: [...zz(1), ...TOO_LONG_VARINT] }))).toBe(false);
    expect(scan(smallPayload({ xs: [...TOO_LONG_VARINT, 0] }))).toBe(false);
    expect(scan(smallPayload({ xs: [...zz(1), ...TOO_LONG_VARINT, 0] }))).toBe(false);
    expect(scan(smallPayload({ m: [...TOO_LONG_VARINT] }))).toBe(false);
    expect(scan(smallPayload({ b: [...TOO_LONG_VARINT] }))).toBe(false);
    // A varint that never ends, up to the end of the payload.
    expect(scan(Buffer.from([...zz(5), 0x80, 0x80, 0x80]))).toBe(false);
    // 10 bytes (non-canonical zero) is still a varint: the payload scans and is copied as it is.
    const tenBytes = smallPayload({ n: [...new Array<number>(9).fill(0x80), 0x00] });
    const state = scanned(splicer, tenBytes);
    expect(codec.decode(tenBytes)).toEqual({ ...smallValue, n: 0 });
    state.values[0] = 'S';
    expect(codec.decode(splicer.splice(tenBytes, state, Buffer.alloc(0))!)).toEqual({ ...smallValue, n: 0, s: 'S' });
  });

  it('rejects huge array and map block counts quickly', () => {
    const started = Date.now();
    for (const count of [2 ** 31, 2 ** 53, 2n ** 62n, MAX_LONG]) {
      expect(scan(smallPayload({ xs: [...zz(count), ...zz(7), 0] }))).toBe(false);
      expect(scan(smallPayload({ m: [...zz(count), ...str('k'), ...zz(1), 0] }))).toBe(false);
      // Negative counts: the block size follows.
      expect(scan(smallPayload({ xs: [...zz(-count), ...zz(count), ...zz(7), 0] }))).toBe(false);
      expect(scan(smallPayload({ xs: [...zz(-count), ...zz(-5), ...zz(7), 0] }))).toBe(false);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('never throws on mutated payloads, and scans every well-formed one to what avsc reads (fast-check)', () => {
    const everything = codecOf(everythingSchema);
    const big = mustCompile(everything);
    const mutation = fc.record({ kind: fc.constantFrom('set', 'insert', 'delete'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) });
    let wellFormedCount = 0;
    fc.assert(
      fc.property(everythingArb(shortText, shortBuffer), fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, mutations) => {
        const bytes = [...everything.encode(value)];
        for (const m of mutations) {
          const at = bytes.length === 0 ? 0 : m.at % bytes.length;
          if (m.kind === 'set') bytes[at] = m.byte;
          else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
          else bytes.splice(at, 1);
        }
        const payload = Buffer.from(bytes);
        const state = big.newState();
        const ok = big.scan(payload, state);
        expect(typeof ok).toBe('boolean');
        const strict = wellFormed(everything, payload);
        if (strict) expect(ok).toBe(true); // a payload Avro reads is never refused
        if (!ok) return;
        // Unchanged values: the leaves are written again (in canonical form) to the same leaf bytes.
        const out = big.splice(payload, state, Buffer.from([1]))!;
        expect(out[0]).toBe(1);
        const again = scanned(big, out.subarray(1));
        everythingLeaves.forEach((_, i) => expect(again.values[i]).toEqual(state.values[i]));
        // avsc trusts counts and lengths without bounds checks: only well-formed payloads go to it.
        if (!strict) return;
        wellFormedCount++;
        let decoded: unknown;
        try {
          decoded = everything.decode(payload);
        } catch {
          return; // scan checks the structure, not every value (booleans, enum indexes, int ranges)
        }
        expect(everything.decode(out.subarray(1))).toEqual(decoded);
        everythingLeaves.forEach((leaf, i) => {
          const v = getPath(decoded, leaf.path);
          const got = state.values[i] as Buffer | null;
          if (v === null) expect(got).toBeNull();
          else if (leaf.kind === 'bytes') expect(got!.equals(v as Buffer)).toBe(true);
          else if (isUtf8(got!)) expect(got!.equals(Buffer.from(v as string, 'utf8'))).toBe(true);
        });
        if (reencodes(everything, decoded, payload)) expect(out.subarray(1).equals(payload)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(wellFormedCount).toBeGreaterThan(0);
  });

  it('never throws on random bytes (fast-check)', () => {
    const everything = codecOf(everythingSchema);
    const big = mustCompile(everything);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        const payload = Buffer.from(u);
        const ok = big.scan(payload, big.newState());
        expect(typeof ok).toBe('boolean');
        if (wellFormed(everything, payload)) expect(ok).toBe(true);
        const small = splicer.scan(payload, splicer.newState());
        expect(typeof small).toBe('boolean');
        if (wellFormed(codec, payload)) expect(small).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Huge block counts of items that take no bytes: run in a child process, which can be killed.

/** Scans `payload` under `schema` (PII selected) in a child process; its stdout, or null when it timed out. */
function scanInChild(schema: unknown, payload: Buffer, timeoutMs: number): Promise<string | null> {
  const code = `
    const { compileAvroSplicer, createAvroCodec } = await import(${JSON.stringify(FORMATS_URL)});
    const codec = createAvroCodec({ schemaType: 'AVRO', schema: ${JSON.stringify(JSON.stringify(schema))} });
    const splicer = compileAvroSplicer(codec, codec, [(f) => f.inlineTags.includes('PII')], []);
    process.stdout.write(String(splicer.scan(Buffer.from(${JSON.stringify(payload.toString('hex'))}, 'hex'), splicer.newState())));
  `;
  return runInChild(code, timeoutMs);
}

const arrayOf = (items: unknown) => ({
  type: 'record',
  name: 'Holder',
  fields: [
    { name: 'xs', type: { type: 'array', items } },
    { name: 's', type: 'string', 'confluent:tags': PII },
  ],
});
/** xs: one block of 2^62 items (no items follow), then s. */
const hugeBlock = bytesOf(zz(2n ** 62n), [0], str('a'));

describe('AvroSplicer.scan: huge block counts of zero-byte items', () => {
  it('the child-process harness reports a scan (control: int items fail fast, a few null items scan)', async () => {
    expect(await scanInChild(arrayOf('int'), hugeBlock, 15_000)).toBe('false');
    expect(await scanInChild(arrayOf('null'), bytesOf(zz(3), [0], str('a')), 15_000)).toBe('true');
  }, 40_000);

  // Items that take no bytes (null, an empty record, a record of nulls) bound nothing: 11 bytes declare
  // 2^62 of them. The scan must not count them down one at a time (that never ends: past 2^53 count--
  // no longer changes a float). It runs in a child process so that a regression fails instead of hanging.
  it('does not hang on 2^62 null items, empty records or records of nulls', async () => {
    const results = await Promise.all([
      scanInChild(arrayOf('null'), hugeBlock, 10_000),
      scanInChild(arrayOf({ type: 'record', name: 'Empty', fields: [] }), hugeBlock, 10_000),
      scanInChild(arrayOf({ type: 'record', name: 'Nulls', fields: [{ name: 'a', type: 'null' }, { name: 'b', type: 'null' }] }), hugeBlock, 10_000),
    ]);
    // The payload is well-formed Avro (2^62 values that take no bytes): it scans.
    expect(results).toEqual(['true', 'true', 'true']);
  }, 40_000);

  it('skips blocks of zero-byte items, in both block forms, to the leaf after them', () => {
    const codec = codecOf(arrayOf('null'));
    const splicer = mustCompile(codec);
    // Blocks of 5 and 1000 items, then a negative-count block of 3 (byte size 0), then the end. (Huge
    // counts are in the child-process test above, where a regression cannot hang the suite.)
    const payload = bytesOf(zz(5), zz(1000), zz(-3), zz(0), [0], str('leaf'));
    const state = scanned(splicer, payload);
    expect((state.values[0] as Buffer).toString()).toBe('leaf');
    state.values[0] = 'LEAF!';
    expect(splicer.splice(payload, state, Buffer.alloc(0))!.equals(bytesOf(zz(5), zz(1000), zz(-3), zz(0), [0], str('LEAF!')))).toBe(true);
    const small = bytesOf(zz(2), [0], str('x'));
    expect(codec.decode(small)).toEqual({ xs: [null, null], s: 'x' });
    expect(scanned(splicer, small).values).toEqual([Buffer.from('x')]);
  });
});

// ---------------------------------------------------------------------------------------------------
// splice with values that do not fit

describe('AvroSplicer.splice: values that do not fit their leaf', () => {
  const codec = codecOf({
    type: 'record',
    name: 'Fit',
    fields: [
      { name: 's', type: 'string', 'confluent:tags': PII },
      { name: 'b', type: 'bytes', 'confluent:tags': PII },
      { name: 'ns', type: ['null', 'string'], 'confluent:tags': PII },
      { name: 'nb', type: ['bytes', 'null'], 'confluent:tags': PII },
    ],
  });
  const splicer = mustCompile(codec);
  const value = { s: 's', b: Buffer.from([1]), ns: 'n', nb: Buffer.from([2]) };
  const payload = codec.encode(value);
  const prefix = Buffer.from([0, 0, 0, 0, 1]);

  const spliceWith = (leaf: number, v: unknown): Buffer | undefined => {
    const state = scanned(splicer, payload);
    state.values[leaf] = v;
    return splicer.splice(payload, state, prefix);
  };

  it('fits: the positive controls', () => {
    expect(spliceWith(0, 'x')!.equals(Buffer.concat([prefix, codec.encode({ ...value, s: 'x' })]))).toBe(true);
    expect(spliceWith(1, new Uint8Array([3, 4]))!.equals(Buffer.concat([prefix, codec.encode({ ...value, b: Buffer.from([3, 4]) })]))).toBe(true);
    expect(spliceWith(2, null)!.equals(Buffer.concat([prefix, codec.encode({ ...value, ns: null })]))).toBe(true);
    expect(spliceWith(3, null)!.equals(Buffer.concat([prefix, codec.encode({ ...value, nb: null })]))).toBe(true);
  });

  it('null or undefined in a non-nullable leaf', () => {
    expect(spliceWith(0, null)).toBeUndefined();
    expect(spliceWith(1, null)).toBeUndefined();
    expect(spliceWith(0, undefined)).toBeUndefined();
    expect(spliceWith(1, undefined)).toBeUndefined();
  });

  it('a string in a bytes leaf, nullable or not', () => {
    expect(spliceWith(1, 'AQ==')).toBeUndefined();
    expect(spliceWith(3, 'x')).toBeUndefined();
    expect(spliceWith(3, '')).toBeUndefined();
  });

  it('a number, bigint, boolean, object, array or ArrayBuffer in any leaf', () => {
    for (let leaf = 0; leaf < 4; leaf++) {
      for (const v of [42, 0, 1n, true, {}, { length: 1, 0: 65 }, [65, 66], new ArrayBuffer(2), new DataView(new ArrayBuffer(1))]) {
        expect(spliceWith(leaf, v)).toBeUndefined();
      }
    }
  });

  it('one misfit among fitting values, in the last leaf', () => {
    const state = scanned(splicer, payload);
    state.values[0] = 'fits';
    state.values[1] = Buffer.from('fits');
    state.values[2] = null;
    state.values[3] = 7;
    expect(splicer.splice(payload, state, prefix)).toBeUndefined();
    // The same state with the misfit fixed splices.
    state.values[3] = null;
    expect(codec.decode(splicer.splice(payload, state, prefix)!.subarray(prefix.length))).toEqual({ s: 'fits', b: Buffer.from('fits'), ns: null, nb: null });
  });
});
