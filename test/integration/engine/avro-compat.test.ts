// recrypt's engine against Confluent's official serdes, both directions, for Avro: what recrypt writes
// the official deserializer reads, and what the official serializer writes recrypt reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessedRecord } from '../../../src/kafka/types.js';
import {
  encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry,
} from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';

const customer = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'demo',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
    { name: 'avatar', type: ['null', 'bytes'], default: null, 'confluent:tags': ['PII'] },
  ],
});
const alice = { id: 7, name: 'Alice Canary-7f3', email: 'alice@example.com', country: 'NL', balance: 12.5, avatar: Buffer.from([1, 2, 3]) };

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

function output(result: ProcessedRecord): Buffer {
  if (!('outputs' in result)) throw result.halt;
  return result.outputs[0]!.value!;
}

describe('engine <-> official Avro serdes', () => {
  for (const algorithm of ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'] as const) {
    for (const expiry of ['0', '1']) {
      it(`encrypts plaintext records that the official deserializer decrypts (${algorithm}, expiry ${expiry})`, async () => {
        const source = uniqueName('plain');
        const target = uniqueName('enc');
        const kek = uniqueName('kek');
        await register(registry.url, `${source}-value`, { schemaType: 'AVRO', schema: customer });
        await register(registry.url, `${target}-value`, {
          schemaType: 'AVRO', schema: customer,
          ruleSet: { domainRules: [encryptRule('encryptPII', kek, { 'encrypt.dek.algorithm': algorithm, 'encrypt.dek.expiry.days': expiry })] },
        });
        // Plain records as a legacy producer wrote them (no rules on the source subject).
        const plain = officialSerdes(registry.url, 'AVRO');
        const plainBytes = await plain.serializer.serialize(source, { ...alice });
        const { transformer } = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target });
        const [result] = await transformer.process([sourceRecord(source, plainBytes)]);
        const encrypted = output(result!);
        expect(encrypted.includes(Buffer.from('Alice Canary-7f3'))).toBe(false);
        expect(encrypted.includes(Buffer.from('alice@example.com'))).toBe(false);

        const official = officialSerdes(registry.url, 'AVRO');
        const decoded = await official.deserializer.deserialize(target, encrypted);
        expect(decoded).toEqual(alice);
      });
    }
  }

  it('decrypts what the official serializer encrypted, and re-encrypts GCM -> SIV deterministically', async () => {
    const topic = uniqueName('enc');
    const plainTopic = uniqueName('plain');
    const sivTopic = uniqueName('siv');
    const kek = uniqueName('kek');
    await register(registry.url, `${topic}-value`, { schemaType: 'AVRO', schema: customer, ruleSet: { domainRules: [encryptRule('encryptPII', kek)] } });
    await register(registry.url, `${plainTopic}-value`, { schemaType: 'AVRO', schema: customer });
    await register(registry.url, `${sivTopic}-value`, {
      schemaType: 'AVRO', schema: customer,
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': 'AES256_SIV' })] },
    });
    const official = officialSerdes(registry.url, 'AVRO');
    const encrypted = await official.serializer.serialize(topic, { ...alice });

    const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic });
    const plain = output((await decrypt.transformer.process([sourceRecord(topic, encrypted)]))[0]!);
    expect(await officialSerdes(registry.url, 'AVRO').deserializer.deserialize(plainTopic, plain)).toEqual(alice);

    const reencrypt = await recryptEngine(registry.url, { mode: 'reencrypt', targetSubject: `${sivTopic}-value`, targetTopic: sivTopic });
    const again = await official.serializer.serialize(topic, { ...alice });
    const [a, b] = await reencrypt.transformer.process([sourceRecord(topic, encrypted, 0), sourceRecord(topic, again, 1)]);
    expect(encrypted.equals(again)).toBe(false); // GCM draws a fresh IV
    expect(output(a!).equals(output(b!))).toBe(true); // SIV is deterministic: joinable
    expect(await officialSerdes(registry.url, 'AVRO').deserializer.deserialize(sivTopic, output(a!))).toEqual(alice);
  });

  it('passes tombstones through and halts on tampered ciphertext without leaking the value', async () => {
    const topic = uniqueName('enc');
    const plainTopic = uniqueName('plain');
    await register(registry.url, `${topic}-value`, { schemaType: 'AVRO', schema: customer, ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'))] } });
    await register(registry.url, `${plainTopic}-value`, { schemaType: 'AVRO', schema: customer });
    const encrypted = Buffer.from(await officialSerdes(registry.url, 'AVRO').serializer.serialize(topic, { ...alice }));
    const tampered = Buffer.from(encrypted);
    tampered[tampered.length - 20]! ^= 0x01; // inside the last ciphertext (avatar bytes field)
    const { transformer } = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic });
    const [tomb, bad, unknown, garbage] = await transformer.process([
      sourceRecord(topic, null), sourceRecord(topic, tampered, 1),
      sourceRecord(topic, Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2]), 2), sourceRecord(topic, Buffer.from([9, 9]), 3),
    ]);
    expect(tomb).toMatchObject({ outputs: [{ value: null }] });
    expect(bad).toHaveProperty('halt');
    expect('halt' in bad! && bad.halt.code).toBe('CRYPTO_DECRYPT');
    expect('halt' in unknown! && unknown.halt.code).toBe('ENGINE_UNKNOWN_SCHEMA');
    expect('halt' in garbage! && garbage.halt.code).toMatch(/^WIRE_/);
    for (const r of [bad, unknown, garbage]) {
      const text = 'halt' in r! ? `${r.halt.message} ${String(r.halt.cause)}` : '';
      expect(text).not.toContain('Alice');
      expect(text).not.toContain('alice@example.com');
    }
  });
});
