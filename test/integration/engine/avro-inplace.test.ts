// The in-place Avro path (formats/avro-splice.ts) against Confluent's serializer: with AES256_SIV the
// ciphertext is deterministic, so recrypt's bytes and the official serializer's must be identical,
// for tagged fields around and inside nested records, next to every kind of untagged type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry,
} from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { output } from './harness.js';

const schema = JSON.stringify({
  type: 'record', name: 'Account', namespace: 'inplace',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'flags', type: { type: 'array', items: 'boolean' } },
    { name: 'owner', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'scores', type: { type: 'map', values: 'double' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 4 } },
    { name: 'either', type: ['null', 'int', 'string'] },
    {
      name: 'address', type: {
        type: 'record', name: 'Address', fields: [
          { name: 'street', type: 'string', 'confluent:tags': ['PII'] },
          { name: 'zip', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
          { name: 'rate', type: 'float' },
        ],
      },
    },
    { name: 'photo', type: ['null', 'bytes'], default: null, 'confluent:tags': ['PII'] },
    { name: 'note', type: 'string' },
  ],
});

function account(i: number) {
  return {
    id: i * 1_000_003, flags: [true, false].slice(0, i % 3), owner: `Ówner ${i} 🦊`, scores: i % 2 ? { a: 1.5, b: -2 } : {},
    kind: i % 2 ? 'A' : 'B', digest: Buffer.from([i, 1, 2, 3]), either: i % 3 === 0 ? null : i % 3 === 1 ? 42 : 'text',
    address: { street: `${i} Long Street`.repeat(1 + (i % 9) * 4), zip: i % 2 ? null : `Z${i}`, rate: 0.5 },
    photo: i % 2 ? null : Buffer.alloc(70 + i, i), note: 'untagged',
  };
}

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

describe('in-place Avro path', () => {
  it('writes the official serializer\'s bytes exactly (AES256_SIV), and reads them back', async () => {
    const source = uniqueName('plain');
    const target = uniqueName('siv');
    const back = uniqueName('back');
    await register(registry.url, `${source}-value`, { schemaType: 'AVRO', schema });
    await register(registry.url, `${back}-value`, { schemaType: 'AVRO', schema });
    await register(registry.url, `${target}-value`, {
      schemaType: 'AVRO', schema,
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': 'AES256_SIV' })] },
    });
    const plain = officialSerdes(registry.url, 'AVRO');
    const official = officialSerdes(registry.url, 'AVRO');
    const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target });
    const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${back}-value`, targetTopic: back });
    const values = Array.from({ length: 24 }, (_, i) => account(i));
    // The serializers encrypt nested records in place: each call gets a fresh value.
    const sources = await Promise.all(values.map(async (_, i) => sourceRecord(source, await plain.serializer.serialize(source, account(i)), i)));
    const results = await encrypt.transformer.process(sources);
    for (let i = 0; i < values.length; i++) {
      const ours = output(results[i]);
      expect(ours.includes(Buffer.from('Long Street'))).toBe(false);
      // The official serializer, same DEK (from the registry), same record: the same bytes.
      const theirs = await official.serializer.serialize(target, account(i));
      expect(ours.subarray(5).equals(theirs.subarray(5)), `record ${i}`).toBe(true);
      expect(await official.deserializer.deserialize(target, ours)).toEqual(values[i]);
    }
    const plainAgain = await decrypt.transformer.process(results.map((r, i) => sourceRecord(target, output(r), i)));
    for (let i = 0; i < values.length; i++) {
      expect(await plain.deserializer.deserialize(back, output(plainAgain[i]))).toEqual(values[i]);
      expect(output(plainAgain[i]).subarray(5).equals(sources[i]!.value!.subarray(5))).toBe(true);
    }
  });
});
