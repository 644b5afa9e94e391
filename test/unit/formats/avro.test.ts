import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAvroCodec, createAvroResolver } from '../../../src/formats/avro.js';
import type { FieldInfo, FieldVisitor } from '../../../src/formats/types.js';
import { RecryptError } from '../../../src/util/errors.js';

const avro = (schema: unknown, refs: Record<string, unknown> = {}) =>
  createAvroCodec(
    { schema: JSON.stringify(schema) },
    new Map(Object.entries(refs).map(([k, v]) => [k, { schema: JSON.stringify(v) }])),
  );

const PII = ['PII'];
const customerSchema = {
  type: 'record',
  name: 'Customer',
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': PII },
    { name: 'email', type: 'string', 'confluent:tags': PII },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
  ],
};

const byTag = (tag: string) => (f: FieldInfo) => f.inlineTags.includes(tag);

/** Records every visit and returns a marker so changes are visible after encode/decode. */
function recorder(mark = (v: unknown) => (typeof v === 'string' ? `<${v}>` : v)) {
  const seen: [string, unknown, string][] = [];
  const visit: FieldVisitor = (v, f) => {
    seen.push([f.fullName, v, f.kind]);
    return mark(v);
  };
  return { seen, visit };
}

function expectRecryptError(fn: () => unknown, code: string, secret?: string): RecryptError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RecryptError);
  const e = caught as RecryptError;
  expect(e.code).toBe(code);
  if (secret !== undefined) {
    expect(e.message).not.toContain(secret);
    expect(String(e)).not.toContain(secret);
    expect(e.cause).toBeUndefined();
  }
  return e;
}

describe('Avro codec', () => {
  it('round-trips a Customer and lists its fields', () => {
    const codec = avro(customerSchema);
    expect(codec.schemaType).toBe('AVRO');
    const value = { id: 42, name: 'Alice', email: 'a@x.io', country: 'DE', balance: 1.5 };
    const bytes = codec.encode(value);
    expect(codec.decode(bytes)).toEqual(value);
    expect(codec.fields()).toEqual([
      { name: 'id', fullName: 'com.acme.Customer.id', inlineTags: [], kind: 'other' },
      { name: 'name', fullName: 'com.acme.Customer.name', inlineTags: ['PII'], kind: 'string' },
      { name: 'email', fullName: 'com.acme.Customer.email', inlineTags: ['PII'], kind: 'string' },
      { name: 'country', fullName: 'com.acme.Customer.country', inlineTags: [], kind: 'string' },
      { name: 'balance', fullName: 'com.acme.Customer.balance', inlineTags: [], kind: 'other' },
    ]);
  });

  it('visits only the selected fields and re-encodes the replacements', () => {
    const codec = avro(customerSchema);
    const walker = codec.compileWalker(byTag('PII'));
    expect(walker).not.toBeNull();
    const value = codec.decode(codec.encode({ id: 1, name: 'n', email: 'e', country: 'c', balance: 0 }));
    const { seen, visit } = recorder();
    const out = walker?.(value, visit);
    expect(seen).toEqual([
      ['com.acme.Customer.name', 'n', 'string'],
      ['com.acme.Customer.email', 'e', 'string'],
    ]);
    expect(codec.decode(codec.encode(out))).toMatchObject({ name: '<n>', email: '<e>', country: 'c' });
  });

  it('returns no walker when nothing is selected', () => {
    expect(avro(customerSchema).compileWalker(byTag('NOPE'))).toBeNull();
    expect(avro('string').compileWalker(() => true)).toBeNull();
  });

  const graphSchema = {
    type: 'record',
    name: 'Order',
    namespace: 'shop',
    fields: [
      {
        name: 'buyer',
        type: {
          type: 'record',
          name: 'Person',
          fields: [
            { name: 'name', type: 'string', 'confluent:tags': PII },
            { name: 'nick', type: ['null', 'string'], default: null, 'confluent:tags': PII },
            { name: 'photo', type: ['null', 'bytes'], default: null, 'confluent:tags': PII },
            { name: 'age', type: 'int' },
          ],
        },
      },
      // named type reused by name, twice, and inside a union
      { name: 'seller', type: 'Person' },
      { name: 'courier', type: ['null', 'Person'], default: null },
      { name: 'people', type: { type: 'array', items: 'Person' } },
      { name: 'byRole', type: { type: 'map', values: 'Person' } },
      {
        name: 'payment',
        type: [
          'null',
          { type: 'record', name: 'Card', namespace: 'pay', fields: [{ name: 'pan', type: 'string', 'confluent:tags': ['PCI'] }] },
          { type: 'record', name: 'Iban', namespace: 'pay', fields: [{ name: 'iban', type: 'string', 'confluent:tags': ['PCI'] }] },
          'Person',
        ],
      },
      { name: 'notes', type: { type: 'array', items: ['null', 'string', 'Person'] } },
      {
        name: 'chain',
        type: [
          'null',
          {
            type: 'record',
            name: 'Link',
            fields: [
              { name: 'label', type: 'string', 'confluent:tags': PII },
              { name: 'next', type: ['null', 'Link'], default: null },
            ],
          },
        ],
        default: null,
      },
    ],
  };
  const person = (name: string, extra: object = {}) => ({ name, nick: null, photo: null, age: 1, ...extra });
  const graphValue = {
    buyer: person('b', { nick: 'bn', photo: Buffer.from([1, 2, 3]) }),
    seller: person('s'),
    courier: person('c'),
    people: [person('p1'), person('p2')],
    byRole: { x: person('m1') },
    payment: { 'pay.Card': { pan: '4111' } },
    notes: ['free text', null, person('np')],
    chain: { label: 'l1', next: { label: 'l2', next: { label: 'l3', next: null } } },
  };

  it('lists each named type once with namespace-qualified full names', () => {
    const codec = avro(graphSchema);
    const names = codec.fields().map((f) => f.fullName);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([
      'shop.Order.buyer',
      'shop.Order.seller',
      'shop.Order.courier',
      'shop.Order.people',
      'shop.Order.byRole',
      'shop.Order.payment',
      'shop.Order.notes',
      'shop.Order.chain',
      'shop.Person.name',
      'shop.Person.nick',
      'shop.Person.photo',
      'shop.Person.age',
      'pay.Card.pan',
      'pay.Iban.iban',
      'shop.Link.label',
      'shop.Link.next',
    ]);
    const kinds = Object.fromEntries(codec.fields().map((f) => [f.fullName, f.kind]));
    expect(kinds['shop.Person.nick']).toBe('string');
    expect(kinds['shop.Person.photo']).toBe('bytes');
    expect(kinds['shop.Order.notes']).toBe('string');
    expect(kinds['shop.Order.buyer']).toBe('other');
  });

  it('visits tagged fields in reused types, unions, arrays, maps and recursion', () => {
    const codec = avro(graphSchema);
    const value = codec.decode(codec.encode(graphValue));
    const { seen, visit } = recorder();
    const out = codec.compileWalker(byTag('PII'))?.(value, visit);
    const visited = seen.map(([n, v]) => `${n}=${Buffer.isBuffer(v) ? 'buf' : String(v)}`);
    expect(visited).toEqual([
      'shop.Person.name=b',
      'shop.Person.nick=bn',
      'shop.Person.photo=buf',
      'shop.Person.name=s',
      'shop.Person.nick=null',
      'shop.Person.photo=null',
      'shop.Person.name=c',
      'shop.Person.nick=null',
      'shop.Person.photo=null',
      'shop.Person.name=p1',
      'shop.Person.nick=null',
      'shop.Person.photo=null',
      'shop.Person.name=p2',
      'shop.Person.nick=null',
      'shop.Person.photo=null',
      'shop.Person.name=m1',
      'shop.Person.nick=null',
      'shop.Person.photo=null',
      'shop.Person.name=np',
      'shop.Person.nick=null',
      'shop.Person.photo=null',
      'shop.Link.label=l1',
      'shop.Link.label=l2',
      'shop.Link.label=l3',
    ]);
    const back = codec.decode(codec.encode(out)) as typeof graphValue;
    expect(back.seller.name).toBe('<s>');
    expect(back.people[1]?.name).toBe('<p2>');
    expect(back.byRole['x']?.name).toBe('<m1>');
    expect(back.notes[0]).toBe('free text'); // the string branch of notes is not tagged
    expect(back.chain.next?.next?.label).toBe('<l3>');
  });

  it('visits records of wrapped unions (several records in one union)', () => {
    const codec = avro(graphSchema);
    const value = codec.decode(codec.encode(graphValue));
    const { seen, visit } = recorder();
    const out = codec.compileWalker(byTag('PCI'))?.(value, visit) as typeof graphValue;
    expect(seen).toEqual([['pay.Card.pan', '4111', 'string']]);
    expect((codec.decode(codec.encode(out)) as typeof graphValue).payment).toEqual({ 'pay.Card': { pan: '<4111>' } });

    const iban = codec.decode(codec.encode({ ...graphValue, payment: { 'pay.Iban': { iban: 'DE00' } } }));
    const r2 = recorder();
    codec.compileWalker(byTag('PCI'))?.(iban, r2.visit);
    expect(r2.seen).toEqual([['pay.Iban.iban', 'DE00', 'string']]);

    const p = codec.decode(codec.encode({ ...graphValue, payment: { 'shop.Person': person('pp') } }));
    const r3 = recorder();
    codec.compileWalker((f) => f.fullName === 'shop.Person.name')?.(p, r3.visit);
    expect(r3.seen.map((s) => s[1])).toContain('pp');
  });

  it('visits a record that a union refers to twice, in two places', () => {
    const schema = {
      type: 'record',
      name: 'Pair',
      fields: [
        { name: 'a', type: ['null', { type: 'record', name: 'Secret', fields: [{ name: 's', type: 'string', 'confluent:tags': PII }] }] },
        { name: 'b', type: ['null', 'Secret'] },
        { name: 'c', type: ['Secret', 'string'] },
      ],
    };
    const codec = avro(schema);
    const value = codec.decode(codec.encode({ a: { s: 'x' }, b: { s: 'y' }, c: { s: 'z' } }));
    const { seen, visit } = recorder();
    codec.compileWalker(byTag('PII'))?.(value, visit);
    expect(seen.map((s) => s[1])).toEqual(['x', 'y', 'z']);
  });

  it('selects by full name (metadata.tags style), and by kind of leaf', () => {
    const schema = {
      type: 'record',
      name: 'R',
      namespace: 'n',
      fields: [
        { name: 'u', type: ['null', 'string', 'int'] },
        { name: 'list', type: { type: 'array', items: 'string' } },
        { name: 'm', type: { type: 'map', values: ['null', 'bytes'] } },
      ],
    };
    const codec = avro(schema);
    expect(codec.fields().map((f) => f.kind)).toEqual(['other', 'string', 'bytes']);
    const value = codec.decode(codec.encode({ u: 7, list: ['a', 'b'], m: { k: Buffer.from('v'), z: null } }));
    const { seen, visit } = recorder((v) => v);
    codec.compileWalker(() => true)?.(value, visit);
    expect(seen.map(([n, v, k]) => `${n}:${k}:${Buffer.isBuffer(v) ? v.toString() : String(v)}`)).toEqual([
      'n.R.u:other:7',
      'n.R.list:string:a',
      'n.R.list:string:b',
      'n.R.m:bytes:v',
      'n.R.m:bytes:null',
    ]);
  });

  it('accepts a Uint8Array from the visitor for a bytes field', () => {
    const codec = avro({ type: 'record', name: 'B', fields: [{ name: 'b', type: 'bytes', 'confluent:tags': PII }] });
    const value = codec.decode(codec.encode({ b: Buffer.from('x') }));
    const out = codec.compileWalker(byTag('PII'))?.(value, () => new Uint8Array([9, 8]));
    expect(codec.decode(codec.encode(out))).toEqual({ b: Buffer.from([9, 8]) });
  });

  it('resolves named types from schema references, in any order', () => {
    const address = {
      type: 'record',
      name: 'Address',
      namespace: 'com.acme',
      fields: [
        { name: 'street', type: 'string', 'confluent:tags': PII },
        { name: 'geo', type: 'com.acme.Geo' },
      ],
    };
    const geo = { type: 'record', name: 'Geo', namespace: 'com.acme', fields: [{ name: 'lat', type: 'double' }] };
    const main = {
      type: 'record',
      name: 'User',
      namespace: 'com.acme',
      fields: [
        { name: 'home', type: 'com.acme.Address' },
        { name: 'work', type: ['null', 'Address'] },
      ],
    };
    const codec = avro(main, { 'com.acme.Address': address, 'com.acme.Geo': geo });
    expect(codec.fields().find((f) => f.fullName === 'com.acme.Address.street')?.inlineTags).toEqual(['PII']);
    const v = { home: { street: 'h', geo: { lat: 1 } }, work: { street: 'w', geo: { lat: 2 } } };
    const { seen, visit } = recorder();
    codec.compileWalker(byTag('PII'))?.(codec.decode(codec.encode(v)), visit);
    expect(seen.map((s) => s[1])).toEqual(['h', 'w']);
    expectRecryptError(() => avro(main, { 'com.acme.Geo': geo }), 'FORMAT_SCHEMA');
  });

  it('keeps longs lossless over the whole int64 range, also inside unions', () => {
    const codec = avro({
      type: 'record',
      name: 'L',
      fields: [
        { name: 'a', type: 'long' },
        { name: 'b', type: ['null', 'long'] },
        { name: 'c', type: ['int', 'long'] },
      ],
    });
    const values = [0, 1, -1, 2 ** 31, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2n ** 53n, -(2n ** 63n), 2n ** 63n - 1n];
    for (const x of values) {
      const v = { a: x, b: x, c: { long: x } };
      expect(codec.decode(codec.encode(v))).toEqual(v);
    }
    expectRecryptError(() => codec.encode({ a: 2n ** 63n, b: null, c: { int: 1 } }), 'FORMAT_ENCODE');
    expectRecryptError(() => codec.encode({ a: 1.5, b: null, c: { int: 1 } }), 'FORMAT_ENCODE');
  });

  it('fails bad payloads with FORMAT_DECODE and no value in the message', () => {
    const codec = avro(customerSchema);
    const good = codec.encode({ id: 1, name: 'topsecret-name', email: 'e', country: 'c', balance: 0 });
    expectRecryptError(() => codec.decode(good.subarray(0, good.length - 3)), 'FORMAT_DECODE', 'topsecret');
    expectRecryptError(() => codec.decode(Buffer.concat([good, Buffer.from([0])])), 'FORMAT_DECODE', 'topsecret');
    expectRecryptError(() => codec.decode(Buffer.alloc(0)), 'FORMAT_DECODE');
    const union = avro(['null', 'string']);
    expectRecryptError(() => union.decode(Buffer.from([0x08, 0x02, 0x41])), 'FORMAT_DECODE');
    expectRecryptError(() => codec.encode({ id: 1, name: 42, email: 'topsecret', country: 'c', balance: 0 }), 'FORMAT_ENCODE', 'topsecret');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          codec.decode(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(RecryptError);
          expect((err as RecryptError).code).toBe('FORMAT_DECODE');
        }
      }),
    );
  });

  it('fails invalid schemas with FORMAT_SCHEMA', () => {
    expectRecryptError(() => createAvroCodec({ schema: '{not json' }, new Map()), 'FORMAT_SCHEMA');
    expectRecryptError(() => avro({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'Nope' }] }), 'FORMAT_SCHEMA');
    expectRecryptError(() => avro({ type: 'wat' }), 'FORMAT_SCHEMA');
    expectRecryptError(() => avro(['null', 'null']), 'FORMAT_SCHEMA');
  });

  const customerArb = fc.record({
    id: fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER))),
    name: fc.string({ unit: 'grapheme' }),
    email: fc.string(),
    country: fc.string({ maxLength: 3 }),
    balance: fc.double({ noNaN: true }),
  });

  it('property: decode(encode(x)) == x and an identity walk preserves the bytes', () => {
    const codec = avro(customerSchema);
    const walker = codec.compileWalker(byTag('PII'));
    fc.assert(
      fc.property(customerArb, (x) => {
        const bytes = codec.encode(x);
        expect(codec.decode(bytes)).toEqual(x);
        const walked = walker?.(codec.decode(bytes), (v) => v);
        expect(codec.encode(walked).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Avro resolution', () => {
  const v1 = {
    type: 'record',
    name: 'Customer',
    namespace: 'com.acme',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string', 'confluent:tags': PII },
      { name: 'legacy', type: 'string' },
    ],
  };
  const v2 = {
    type: 'record',
    name: 'Customer',
    namespace: 'com.acme',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string', 'confluent:tags': PII },
      { name: 'tier', type: 'string', default: 'basic' },
      { name: 'score', type: ['null', 'double'], default: null },
    ],
  };

  it('drops removed fields and fills added fields with their defaults', () => {
    const writer = avro(v1);
    const target = avro(v2);
    const resolver = createAvroResolver(writer, target);
    expect(resolver.identical).toBe(false);
    const bytes = writer.encode({ id: 2n ** 60n, name: 'n', legacy: 'old' });
    const expected = { id: 2n ** 60n, name: 'n', tier: 'basic', score: null };
    expect(resolver.decode(bytes)).toEqual(expected);
    expect(resolver.convert(writer.decode(bytes))).toEqual(expected);
    expect(target.decode(target.encode(resolver.decode(bytes)))).toEqual(expected);
  });

  it('reports identical schemas and incompatible ones', () => {
    expect(createAvroResolver(avro(v1), avro(v1)).identical).toBe(true);
    const incompatible = { ...v2, fields: [...v2.fields, { name: 'required', type: 'string' }] };
    expectRecryptError(() => createAvroResolver(avro(v1), avro(incompatible)), 'FORMAT_RESOLUTION');
  });
});
