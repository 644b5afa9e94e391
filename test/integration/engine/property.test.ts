// Property-based round trips over generated Customer-like records, for each format: official encrypt ->
// recrypt decrypt == original, and recrypt encrypt -> official decrypt == original. Each run picks one
// of the three algorithms (with or without expiry).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptRule, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { ALGORITHMS, createPair, type Format, type Pair } from './harness.js';
import { startSerializedFormatProxy, type Proxy } from './proto-descriptors.js';

const NUM_RUNS = 30;

const AVRO = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'demo',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
    { name: 'phones', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] },
    { name: 'avatar', type: 'bytes', 'confluent:tags': ['PII'] },
    { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'street', type: 'string', 'confluent:tags': ['PII'] }, { name: 'zip', type: 'string' }] } },
  ],
});
const JSON_SCHEMA = JSON.stringify({
  type: 'object', title: 'Customer',
  properties: {
    id: { type: 'integer' }, name: { type: 'string', 'confluent:tags': ['PII'] }, email: { type: 'string', 'confluent:tags': ['PII'] },
    country: { type: 'string' }, balance: { type: 'number' },
    phones: { type: 'array', items: { type: 'string' }, 'confluent:tags': ['PII'] },
    address: { type: 'object', properties: { street: { type: 'string', 'confluent:tags': ['PII'] }, zip: { type: 'string' } } },
  },
});
const PROTO = `syntax = "proto3";
package demo;
import "confluent/meta.proto";
message Customer {
  int64 id = 1;
  string name = 2 [(confluent.field_meta).tags = "PII"];
  string email = 3 [(confluent.field_meta).tags = "PII"];
  string country = 4;
  double balance = 5;
  repeated string phones = 6;
  bytes avatar = 7 [(confluent.field_meta).tags = "PII"];
  Address address = 8;
  message Address { string street = 1; string zip = 2; }
}
`;

const text = (max = 24): fc.Arbitrary<string> => fc.string({ unit: 'grapheme', maxLength: max });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d));
const secret = text().map((s) => `pii:${s}`);

const customers: Record<Format, fc.Arbitrary<Record<string, unknown>>> = {
  AVRO: fc.record({
    // avsc (which both clients use) writes longs exactly only within +-2^52: its zig-zag runs on doubles.
    id: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), name: secret, email: fc.option(secret, { nil: null }), country: text(4), balance: finite,
    phones: fc.array(secret, { maxLength: 4 }), avatar: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    address: fc.record({ street: secret, zip: text(6) }),
  }),
  JSON: fc.record({
    id: fc.maxSafeInteger(), name: secret, email: secret, country: text(4), balance: finite,
    phones: fc.array(secret, { maxLength: 4 }), address: fc.record({ street: secret, zip: text(6) }),
  }),
  PROTOBUF: fc.record({
    id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), name: secret, email: secret, country: text(4), balance: finite,
    phones: fc.array(text(), { maxLength: 4 }), avatar: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    address: fc.record({ street: text(), zip: text(6) }),
  }),
};

function secretsOf(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith('pii:')) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

let registry: TestRegistry;
let proxy: Proxy;
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
});
afterAll(async () => {
  await proxy.close();
  await registry.close();
});

async function pairsFor(format: Format): Promise<Pair[]> {
  const schema = format === 'AVRO' ? AVRO : format === 'JSON' ? JSON_SCHEMA : PROTO;
  const pairs: Pair[] = [];
  for (const algorithm of ALGORITHMS) {
    for (const expiry of ['0', '1']) {
      pairs.push(await createPair(registry.url, {
        format, schema, typeName: 'demo.Customer', protoUrl: proxy.url,
        ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': algorithm, 'encrypt.dek.expiry.days': expiry })] },
      }));
    }
  }
  return pairs;
}

describe.each(['AVRO', 'JSON', 'PROTOBUF'] as const)('generated %s records', (format) => {
  it('official encrypt -> recrypt decrypt == original', async () => {
    const pairs = await pairsFor(format);
    await fc.assert(fc.asyncProperty(customers[format], fc.nat(pairs.length - 1), async (value, i) => {
      const pair = pairs[i]!;
      const { decrypted } = await pair.officialToRecrypt(value, secretsOf(value));
      expect(decrypted).toEqual(pair.expected(value));
    }), { numRuns: NUM_RUNS });
  });

  it('recrypt encrypt -> official decrypt == original', async () => {
    const pairs = await pairsFor(format);
    await fc.assert(fc.asyncProperty(customers[format], fc.nat(pairs.length - 1), async (value, i) => {
      const pair = pairs[i]!;
      const { decrypted } = await pair.recryptToOfficial(value, secretsOf(value));
      expect(decrypted).toEqual(pair.expected(value));
    }), { numRuns: NUM_RUNS });
  });
});
