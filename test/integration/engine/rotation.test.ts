// DEK rotation by `encrypt.dek.expiry.days` through the engine, with an injected clock: a write after
// expiry registers and uses version 2 (ciphertext prefix 0x00 00000002), and readers decrypt every
// version; the official writer's rotation (version 3) reads back through recrypt too.
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DekRegistryClient } from '../../../src/registry/index.js';
import { encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { output } from './harness.js';

const DAY = 86_400_000;
const schema = JSON.stringify({
  type: 'record', name: 'Msg', fields: [{ name: 'text', type: 'string', 'confluent:tags': ['PII'] }, { name: 'n', type: 'int' }],
});
const msgType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

function dekVersionOf(record: Buffer): number {
  const { text } = msgType.fromBuffer(record.subarray(5)) as { text: string };
  const ct = Buffer.from(text, 'base64');
  expect(ct[0]).toBe(0);
  return ct.readInt32BE(1);
}

describe('DEK rotation', () => {
  for (const algorithm of ['AES256_GCM', 'AES256_SIV'] as const) {
    it(`writes after expiry use version 2; the official reader decrypts both versions (${algorithm})`, async () => {
      const encTopic = uniqueName('enc');
      const plainTopic = uniqueName('plain');
      const kek = uniqueName('kek');
      await register(registry.url, `${encTopic}-value`, {
        schemaType: 'AVRO', schema, ruleSet: { domainRules: [encryptRule('encryptPII', kek, { 'encrypt.dek.expiry.days': '1', 'encrypt.dek.algorithm': algorithm })] },
      });
      await register(registry.url, `${plainTopic}-value`, { schemaType: 'AVRO', schema });
      let now = Date.now();
      const clock = (): number => now;
      const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${encTopic}-value`, targetTopic: encTopic, clock });
      const plainWriter = officialSerdes(registry.url, 'AVRO');
      const plainRecord = async (n: number): Promise<Buffer> => plainWriter.serializer.serialize(plainTopic, { text: `secret text ${n}`, n });

      const [r1] = await encrypt.transformer.process([sourceRecord(plainTopic, await plainRecord(1), 1)]);
      const first = output(r1);
      expect(dekVersionOf(first)).toBe(1);

      now += DAY / 2; // not expired yet
      const [r2] = await encrypt.transformer.process([sourceRecord(plainTopic, await plainRecord(2), 2)]);
      expect(dekVersionOf(output(r2))).toBe(1);

      now += DAY; // 1.5 days after version 1 was created: expired
      const [r3, r4] = await encrypt.transformer.process([sourceRecord(plainTopic, await plainRecord(3), 3), sourceRecord(plainTopic, await plainRecord(4), 4)]);
      expect(dekVersionOf(output(r3))).toBe(2);
      expect(dekVersionOf(output(r4))).toBe(2);
      const deks = new DekRegistryClient({ baseUrls: [registry.url] });
      expect((await deks.getDek(kek, `${encTopic}-value`, -1, algorithm))?.version).toBe(2);

      // The official reader decrypts both versions.
      const reader = officialSerdes(registry.url, 'AVRO');
      expect(await reader.deserializer.deserialize(encTopic, first)).toEqual({ text: 'secret text 1', n: 1 });
      expect(await reader.deserializer.deserialize(encTopic, output(r3))).toEqual({ text: 'secret text 3', n: 3 });

      // The official writer, its clock past version 2's expiry too, rotates to version 3; recrypt reads 1, 2 and 3.
      const officialNow = Date.now() + 3 * DAY;
      const officialWriter = officialSerdes(registry.url, 'AVRO', {}, { clock: () => officialNow });
      const third = await officialWriter.serializer.serialize(encTopic, { text: 'secret text 5', n: 5 });
      expect(dekVersionOf(third)).toBe(3);
      const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic });
      const outs = await decrypt.transformer.process([sourceRecord(encTopic, first, 1), sourceRecord(encTopic, output(r3), 3), sourceRecord(encTopic, third, 5)]);
      const texts = outs.map((o) => (msgType.fromBuffer(output(o).subarray(5)) as { text: string }).text);
      expect(texts).toEqual(['secret text 1', 'secret text 3', 'secret text 5']);
    });
  }
});
