// recrypt's engine against Confluent's official JS serdes for JSON Schema and Protobuf, both directions,
// each DEK algorithm, with and without DEK expiry (version-prefixed ciphertext).
//
// Where the official JS Protobuf serde does not do what CSFLE-NOTES (and the Java serde) say, the last
// block pins its actual behaviour; recrypt follows Java there (see the comments).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptRule, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { ALGORITHMS, createPair, expectBothWays, haltOf, output } from './harness.js';
import { startSerializedFormatProxy, type Proxy } from './proto-descriptors.js';
import { recryptEngine, sourceRecord } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';

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

const JSON_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: 'Customer', type: 'object',
  definitions: {
    Address: {
      type: 'object',
      properties: { street: { type: 'string', 'confluent:tags': ['PII'] }, city: { type: 'string' } },
    },
  },
  properties: {
    id: { type: 'integer' },
    name: { type: 'string', 'confluent:tags': ['PII'] },
    email: { type: 'string', 'confluent:tags': ['PII'] },
    country: { type: 'string' },
    address: { $ref: '#/definitions/Address' },
    previous: { type: 'array', items: { $ref: '#/definitions/Address' } },
    aliases: { type: 'array', items: { type: 'string' }, 'confluent:tags': ['PII'] },
    profile: { type: 'object', properties: { bio: { type: 'string', 'confluent:tags': ['PII'] }, score: { type: 'number' } } },
  },
});
const jsonValue = {
  id: 7, name: 'Alice Canary-json', email: 'alice@example.com', country: 'NL',
  address: { street: 'Canary street 1', city: 'Utrecht' },
  previous: [{ street: 'Old canary lane 2', city: 'Delft' }, { street: 'Older canary road 3', city: 'Gouda' }],
  aliases: ['alias-canary-1', 'alias-canary-2'],
  profile: { bio: 'bio-canary-text', score: 4.5 },
};
const jsonSecrets = ['Alice Canary-json', 'alice@example.com', 'Canary street 1', 'Old canary lane 2', 'Older canary road 3', 'alias-canary-1', 'bio-canary-text'];

// Tagged fields at the top level; nested messages, repeated and map fields carry untagged data (the
// official JS serde cannot encrypt inside them: see the last describe block).
const PROTO = `syntax = "proto3";
package demo;
import "confluent/meta.proto";
message Customer {
  int32 id = 1;
  string name = 2 [(confluent.field_meta).tags = "PII"];
  string email = 3 [(confluent.field_meta) = { tags: ["PII"] }];
  string country = 4;
  Address address = 5;
  repeated Address previous = 6;
  repeated int32 scores = 7;
  map<string, string> attributes = 8;
  map<string, Address> homes = 9;
  bytes avatar = 10 [(confluent.field_meta).tags = "PII"];
  message Address {
    string street = 1;
    string city = 2;
  }
}
`;
const protoValue = {
  id: 7, name: 'Alice Canary-proto', email: 'alice@example.com', country: 'NL',
  address: { street: 'Main 1', city: 'Utrecht' }, previous: [{ street: 'Old 2', city: 'Delft' }], scores: [1, 2, 3],
  attributes: { tier: 'gold' }, homes: { summer: { street: 'Beach 3', city: 'Zandvoort' } },
  avatar: Buffer.from('avatar-canary-bytes'),
};
const protoSecrets = ['Alice Canary-proto', 'alice@example.com', 'avatar-canary-bytes'];

describe.each(ALGORITHMS)('JSON Schema and Protobuf both ways (%s)', (algorithm) => {
  for (const expiry of ['0', '2']) {
    const params = { 'encrypt.dek.algorithm': algorithm, 'encrypt.dek.expiry.days': expiry };

    it(`JSON Schema with $ref, nested objects and arrays (expiry ${expiry})`, async () => {
      const pair = await createPair(registry.url, {
        format: 'JSON', schema: JSON_SCHEMA, ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), params)] },
      });
      await expectBothWays(pair, jsonValue, jsonSecrets);
      // Deterministic encryption: the same input gives the same record.
      if (algorithm === 'AES256_SIV') {
        const a = await pair.recryptToOfficial(jsonValue);
        const b = await pair.recryptToOfficial(jsonValue);
        expect(a.encrypted.equals(b.encrypted)).toBe(true);
      }
    });

    it(`Protobuf with meta.proto tags, nested messages, repeated and map fields (expiry ${expiry})`, async () => {
      const pair = await createPair(registry.url, {
        format: 'PROTOBUF', schema: PROTO, typeName: 'demo.Customer', protoUrl: proxy.url,
        ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), params)] },
      });
      await expectBothWays(pair, protoValue, protoSecrets);
    });
  }
});

describe('JSON Schema: metadata.tags on $.paths', () => {
  it('tags fields by JSON path wildcards, both ways', async () => {
    const schema = JSON.stringify({
      type: 'object', title: 'T',
      properties: { a: { type: 'string' }, b: { type: 'object', properties: { c: { type: 'string' }, d: { type: 'string' } } } },
    });
    const pair = await createPair(registry.url, {
      format: 'JSON', schema, metadata: { tags: { '$.a': ['PII'], '$.b.c': ['PII'] } },
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'))] },
    });
    const value = { a: 'top-canary-a', b: { c: 'nested-canary-c', d: 'visible-d-value' } };
    await expectBothWays(pair, value, ['top-canary-a', 'nested-canary-c']);
    const { encrypted } = await pair.recryptToOfficial(value);
    expect(encrypted.includes(Buffer.from('visible-d-value'))).toBe(true);
  });
});

describe('Protobuf: where the official JS serde differs from CSFLE-NOTES / Java', () => {
  // @confluentinc/schemaregistry 1.10.1, serde/protobuf.js transformField() recurses into a nested
  // message with the PARENT's descriptor, so tagged fields inside nested (and repeated) messages are
  // never visited: the JS serializer writes them in PLAINTEXT and the JS deserializer leaves them as
  // ciphertext. Map fields are never descended into. Java visits all of them; recrypt does as Java.
  const NESTED = `syntax = "proto3";
package demo;
import "confluent/meta.proto";
message Customer {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  Address address = 2;
  message Address {
    string street = 1 [(confluent.field_meta).tags = "PII"];
    string city = 2;
  }
}
`;
  it('the JS serializer leaves a nested tagged field in plaintext; recrypt refuses it rather than pass it on', async () => {
    const pair = await createPair(registry.url, {
      format: 'PROTOBUF', schema: NESTED, typeName: 'demo.Customer', protoUrl: proxy.url,
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'))] },
    });
    const value = { name: 'Alice Canary-nested', address: { street: 'Nested canary street', city: 'X' } };
    const encrypted = await pair.official().serializer.serialize(pair.encTopic, pair.toWire(value));
    expect(encrypted.includes(Buffer.from('Alice Canary-nested'))).toBe(false);
    expect(encrypted.includes(Buffer.from('Nested canary street'))).toBe(true); // the JS client's leak
    const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${pair.plainTopic}-value`, targetTopic: pair.plainTopic });
    const halt = haltOf((await decrypt.transformer.process([sourceRecord(pair.encTopic, encrypted)]))[0]);
    expect(halt.code).toBe('CRYPTO_BAD_CIPHERTEXT');
    expect(halt.message).not.toContain('Nested canary street');
  });

  it('recrypt encrypts the nested tagged field (as Java); the JS deserializer leaves it as ciphertext', async () => {
    const pair = await createPair(registry.url, {
      format: 'PROTOBUF', schema: NESTED, typeName: 'demo.Customer', protoUrl: proxy.url,
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'))] },
    });
    const value = { name: 'Alice Canary-nested', address: { street: 'Nested canary street', city: 'X' } };
    const { encrypted, decrypted } = await pair.recryptToOfficial(value, ['Alice Canary-nested', 'Nested canary street']);
    const got = decrypted as { name: string; address: { street: string } };
    expect(got.name).toBe('Alice Canary-nested');
    expect(got.address.street).not.toBe('Nested canary street');
    expect(got.address.street).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    // recrypt reads its own output back to the original.
    const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${pair.plainTopic}-value`, targetTopic: pair.plainTopic });
    const plainBytes = output((await decrypt.transformer.process([sourceRecord(pair.encTopic, encrypted)]))[0]);
    expect(plainBytes.includes(Buffer.from('Nested canary street'))).toBe(true);
    expect(plainBytes.includes(Buffer.from('Alice Canary-nested'))).toBe(true);
  });
});
