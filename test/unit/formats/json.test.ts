import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsonCodec } from '../../../src/formats/json.js';
import type { FieldInfo, FieldVisitor } from '../../../src/formats/types.js';
import { RecryptError } from '../../../src/util/errors.js';

const PII = ['PII'];
const address = {
  $id: 'https://example.com/schemas/address.json',
  type: 'object',
  properties: { street: { type: 'string', 'confluent:tags': PII }, zip: { type: 'string' } },
};
const main = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://example.com/schemas/customer.json',
  type: 'object',
  definitions: {
    Node: { type: 'object', properties: { v: { type: 'string', 'confluent:tags': PII }, next: { $ref: '#/definitions/Node' } } },
  },
  $defs: {
    Card: { type: 'object', required: ['card'], additionalProperties: false, properties: { card: { type: 'string', 'confluent:tags': ['PCI'] } } },
    Iban: { type: 'object', required: ['iban'], properties: { iban: { type: 'string', 'confluent:tags': ['PCI'] } } },
  },
  properties: {
    name: { type: 'string', 'confluent:tags': PII },
    age: { type: 'integer' },
    home: { $ref: 'address.json' },
    work: { $ref: 'https://example.com/schemas/address.json' },
    phones: { type: 'array', items: { type: 'object', properties: { number: { type: 'string', 'confluent:tags': PII } } } },
    aliases: { type: 'array', items: { type: 'string' }, 'confluent:tags': PII },
    list: { $ref: '#/definitions/Node' },
    pay: { oneOf: [{ $ref: '#/$defs/Card' }, { $ref: '#/$defs/Iban' }] },
    merged: { allOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { properties: { a: { 'confluent:tags': PII } } }] },
    opt: { type: ['string', 'null'], 'confluent:tags': PII },
    status: { type: 'string', enum: ['A', 'B'], 'confluent:tags': PII },
    extra: { type: 'object', additionalProperties: { type: 'string', 'confluent:tags': PII } },
  },
};
const refs = new Map([['address.json', { schemaType: 'JSON' as const, schema: JSON.stringify(address) }]]);
const codec = () => createJsonCodec({ schemaType: 'JSON', schema: JSON.stringify(main) }, refs);
const byTag = (tag: string) => (f: FieldInfo) => f.inlineTags.includes(tag);

function recorder() {
  const seen: [string, unknown, string][] = [];
  const visit: FieldVisitor = (v, f) => {
    seen.push([f.fullName, v, f.kind]);
    return typeof v === 'string' ? `<${v}>` : v;
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
  if (secret !== undefined) {
    expect(String(caught)).not.toContain(secret);
    expect((caught as RecryptError).cause).toBeUndefined();
  }
}

const doc = {
  name: 'n',
  age: 3,
  home: { street: 'hs', zip: 'z' },
  work: { street: 'ws' },
  phones: [{ number: '1' }, { number: '2' }],
  aliases: ['x', 'y'],
  list: { v: 'l1', next: { v: 'l2', next: { v: 'l3' } } },
  pay: { iban: 'DE00' },
  merged: { a: 'ma' },
  opt: null,
  status: 'A',
  extra: { k: 'untouched' },
};

describe('JSON Schema codec', () => {
  it('round-trips UTF-8 JSON', () => {
    const c = codec();
    expect(c.schemaType).toBe('JSON');
    const bytes = c.encode(doc);
    expect(c.decode(bytes)).toEqual(doc);
    expect(c.decode(Buffer.from('{"ü":"€"}'))).toEqual({ ü: '€' });
  });

  it('lists fields as $.a.b with kinds and inline tags', () => {
    const fields = Object.fromEntries(codec().fields().map((f) => [f.fullName, `${f.kind}|${f.inlineTags.join(',')}`]));
    expect(fields).toMatchObject({
      '$.name': 'string|PII',
      '$.age': 'other|',
      '$.home': 'other|',
      '$.home.street': 'string|PII',
      '$.work.street': 'string|PII',
      '$.phones': 'other|',
      '$.phones.number': 'string|PII',
      '$.aliases': 'string|PII',
      '$.list.v': 'string|PII',
      '$.list.next.v': 'string|PII',
      '$.pay.card': 'string|PCI',
      '$.pay.iban': 'string|PCI',
      '$.merged.a': 'string|PII',
      '$.opt': 'string|PII',
      '$.status': 'other|PII',
    });
  });

  it('visits tagged properties through $ref, allOf, arrays, recursion and the matching oneOf branch', () => {
    const c = codec();
    const v = c.decode(c.encode(doc));
    const { seen, visit } = recorder();
    const out = c.compileWalker(byTag('PII'))?.(v, visit) as typeof doc;
    expect(seen.map(([n, val, k]) => `${n}:${k}:${String(val)}`)).toEqual([
      '$.name:string:n',
      '$.home.street:string:hs',
      '$.work.street:string:ws',
      '$.phones.number:string:1',
      '$.phones.number:string:2',
      '$.aliases:string:x',
      '$.aliases:string:y',
      '$.list.v:string:l1',
      '$.list.next.v:string:l2',
      '$.list.next.next.v:string:l3',
      '$.merged.a:string:ma',
      '$.status:other:A',
    ]);
    expect(out.home.street).toBe('<hs>');
    expect(out.list.next.next.v).toBe('<l3>');
    expect(out.extra).toEqual({ k: 'untouched' }); // additionalProperties are not walked (as Confluent)
    expect(out.opt).toBeNull();
  });

  it('matches oneOf branches by the value', () => {
    const c = codec();
    const iban = recorder();
    c.compileWalker(byTag('PCI'))?.(c.decode(c.encode(doc)), iban.visit);
    expect(iban.seen.map((s) => s[0])).toEqual(['$.pay.iban']);
    const card = recorder();
    c.compileWalker(byTag('PCI'))?.({ pay: { card: '4111' } }, card.visit);
    expect(card.seen.map((s) => s[0])).toEqual(['$.pay.card']);
  });

  it('anyOf visits every matching branch once per property', () => {
    const c = createJsonCodec({
      schemaType: 'JSON',
      schema: JSON.stringify({
        type: 'object',
        properties: {
          p: {
            anyOf: [
              { type: 'object', properties: { a: { type: 'string', 'confluent:tags': PII } } },
              { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string', 'confluent:tags': PII } } },
              { type: 'string' },
            ],
          },
        },
      }),
    });
    const { seen, visit } = recorder();
    c.compileWalker(byTag('PII'))?.({ p: { a: 'x', b: 'y' } }, visit);
    expect(seen.map((s) => `${s[0]}=${String(s[1])}`)).toEqual(['$.p.a=x', '$.p.b=y']);
  });

  it('returns no walker when nothing is selected', () => {
    expect(codec().compileWalker(byTag('NOPE'))).toBeNull();
  });

  it('fails bad payloads with FORMAT_DECODE, unencodable values with FORMAT_ENCODE', () => {
    const c = codec();
    expectCode(() => c.decode(Buffer.from('{"name": topsecret')), 'FORMAT_DECODE', 'topsecret');
    expectCode(() => c.decode(Buffer.from([0x7b, 0xff, 0x7d])), 'FORMAT_DECODE');
    expectCode(() => c.decode(Buffer.alloc(0)), 'FORMAT_DECODE');
    expectCode(() => c.encode({ n: 10n }), 'FORMAT_ENCODE', '10');
    expectCode(() => c.encode(undefined), 'FORMAT_ENCODE');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        try {
          c.decode(Buffer.from(bytes));
        } catch (err) {
          expect((err as RecryptError).code).toBe('FORMAT_DECODE');
        }
      }),
    );
  });

  it('fails invalid schemas and unresolvable $refs with FORMAT_SCHEMA', () => {
    expectCode(() => createJsonCodec({ schemaType: 'JSON', schema: '{nope' }), 'FORMAT_SCHEMA');
    expectCode(() => createJsonCodec({ schemaType: 'JSON', schema: '42' }), 'FORMAT_SCHEMA');
    expectCode(() => createJsonCodec({ schemaType: 'JSON', schema: JSON.stringify({ properties: { a: { $ref: 'missing.json' } } }) }), 'FORMAT_SCHEMA');
    expectCode(() => createJsonCodec({ schemaType: 'JSON', schema: JSON.stringify({ properties: { a: { $ref: '#/definitions/Nope' } } }) }), 'FORMAT_SCHEMA');
  });

  it('property: decode(encode(x)) == x and an identity walk keeps the bytes', () => {
    const c = codec();
    const walker = c.compileWalker(() => true);
    fc.assert(
      fc.property(fc.record({ name: fc.string(), age: fc.integer(), aliases: fc.array(fc.string()), home: fc.record({ street: fc.string() }) }), (x) => {
        const bytes = c.encode(x);
        expect(c.decode(bytes)).toEqual(x);
        expect(c.encode(walker?.(c.decode(bytes), (v) => v)).equals(bytes)).toBe(true);
      }),
    );
  });
});
