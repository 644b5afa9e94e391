// Several ENCRYPT rules on one schema, against the official JS serdes (Avro).
//
// What @confluentinc/schemaregistry 1.10.1 does, checked here:
// - Overlapping but different tag sets (rule1 [PII], rule2 [PHI], a field tagged both): the field is
//   encrypted by rule1 then rule2, and decrypted in reverse. As CSFLE-NOTES says; recrypt interoperates.
// - metadata.tags wildcards (`**.email`) add tags exactly like inline tags.
// - The SAME tag set on two rules: CSFLE-NOTES (and Java/Go/Python) run only the first rule. The JS
//   client differs: its areTransformsWithSameTag() compares the tag arrays by reference (`===`), which is
//   never true for rules parsed from the registry, so it runs BOTH rules (the field is encrypted twice).
//   recrypt writes as Java (one encryption) and reads both: on read the overridden rule runs tolerantly
//   (src/engine/plan.ts), so data written by the JS client and by Java-like writers both decrypt.
//   The JS deserializer cannot read what Java-like writers (recrypt included) write in that case; that
//   is pinned below.
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptRule, recryptEngine, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { createPair, expectBothWays, output } from './harness.js';

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

const schema = JSON.stringify({
  type: 'record', name: 'Patient', namespace: 'clinic',
  fields: [
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII', 'PHI'] },
    { name: 'diagnosis', type: 'string', 'confluent:tags': ['PHI'] },
    { name: 'ssn', type: 'string', 'confluent:tags': ['PII', 'PHI', 'GDPR'] },
    { name: 'note', type: 'string' },
  ],
});
const value = { name: 'Name-canary-1', email: 'mail-canary@example.com', diagnosis: 'Diagnosis-canary', ssn: 'Ssn-canary-123', note: 'visible note' };
const secrets = ['Name-canary-1', 'mail-canary@example.com', 'Diagnosis-canary', 'Ssn-canary-123'];
const avroType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);

/** Length of each field's base64 ciphertext in a record: tells how many times it was encrypted. */
function fieldLengths(record: Buffer): Record<string, number> {
  const decoded = avroType.fromBuffer(record.subarray(5)) as Record<string, string>;
  return Object.fromEntries(Object.entries(decoded).map(([k, v]) => [k, Buffer.from(v, 'base64').length]));
}

// GCM adds 28 bytes per encryption and base64 wraps it: 1x and 2x differ by well over 28 bytes.
const once = (plaintext: string): number => Buffer.byteLength(plaintext) + 28;
const twice = (plaintext: string): number => Buffer.from(Buffer.from('x'.repeat(once(plaintext))).toString('base64')).length + 28;

describe('two and three ENCRYPT rules', () => {
  it('overlapping tags: a field tagged PII and PHI is encrypted by both rules, decrypted in reverse', async () => {
    const pair = await createPair(registry.url, {
      format: 'AVRO', schema,
      ruleSet: { domainRules: [encryptRule('pii', uniqueName('kekA'), {}, ['PII']), encryptRule('phi', uniqueName('kekB'), {}, ['PHI'])] },
    });
    await expectBothWays(pair, value, secrets);
    for (const { encrypted } of [await pair.officialToRecrypt(value), await pair.recryptToOfficial(value)]) {
      const lengths = fieldLengths(encrypted);
      expect(lengths['name']).toBe(once(value.name));
      expect(lengths['diagnosis']).toBe(once(value.diagnosis));
      expect(lengths['email']).toBe(twice(value.email));
      expect(lengths['ssn']).toBe(twice(value.ssn));
    }
  });

  it('three rules with different KEKs and algorithms: the GDPR+PII+PHI field is encrypted three times', async () => {
    const pair = await createPair(registry.url, {
      format: 'AVRO', schema,
      ruleSet: {
        domainRules: [
          encryptRule('pii', uniqueName('kekA'), { 'encrypt.dek.algorithm': 'AES128_GCM' }, ['PII']),
          encryptRule('phi', uniqueName('kekB'), { 'encrypt.dek.algorithm': 'AES256_SIV' }, ['PHI']),
          encryptRule('gdpr', uniqueName('kekC'), { 'encrypt.dek.expiry.days': '3' }, ['GDPR']),
        ],
      },
    });
    await expectBothWays(pair, value, secrets);
    const a = fieldLengths((await pair.recryptToOfficial(value)).encrypted);
    const b = fieldLengths((await pair.officialToRecrypt(value)).encrypted);
    expect(a).toEqual(b);
    expect(a['ssn']).toBeGreaterThan(a['email']!);
  });

  it('metadata.tags wildcards add tags like inline ones (**.email, clinic.Patient.diag*, ?ote)', async () => {
    const untagged = JSON.stringify({
      type: 'record', name: 'Patient', namespace: 'clinic',
      fields: [
        { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
        { name: 'email', type: 'string' }, { name: 'diagnosis', type: 'string' },
        { name: 'ssn', type: 'string' }, { name: 'note', type: 'string' },
      ],
    });
    const pair = await createPair(registry.url, {
      format: 'AVRO', schema: untagged,
      metadata: { tags: { '**.email': ['PII', 'PHI'], 'clinic.Patient.diag*': ['PHI'], '**.ssn': ['PHI'], 'clinic.?ote': ['PII'] } },
      ruleSet: { domainRules: [encryptRule('pii', uniqueName('kekA'), {}, ['PII']), encryptRule('phi', uniqueName('kekB'), {}, ['PHI'])] },
    });
    await expectBothWays(pair, value, secrets);
    const lengths = fieldLengths((await pair.recryptToOfficial(value)).encrypted);
    expect(lengths['email']).toBe(twice(value.email));
    expect(lengths['diagnosis']).toBe(once(value.diagnosis));
    // `clinic.?ote` does not match clinic.Patient.note (`?` is one character, not a dot-separated name).
    const decoded = avroType.fromBuffer((await pair.recryptToOfficial(value)).encrypted.subarray(5)) as Record<string, string>;
    expect(decoded['note']).toBe('visible note');
  });
});

describe('the same tag set on two rules', () => {
  const piiSecrets = ['Name-canary-1', 'mail-canary@example.com', 'Ssn-canary-123'];
  async function sameTagPair(sameKek: boolean) {
    const kek = uniqueName('kekA');
    return createPair(registry.url, {
      format: 'AVRO', schema,
      ruleSet: { domainRules: [encryptRule('first', kek, {}, ['PII']), encryptRule('second', sameKek ? kek : uniqueName('kekB'), {}, ['PII'])] },
    });
  }

  for (const sameKek of [false, true]) {
    it(`official JS writer encrypts twice; recrypt decrypts it (${sameKek ? 'same KEK' : 'different KEKs'})`, async () => {
      const pair = await sameTagPair(sameKek);
      const { encrypted, decrypted } = await pair.officialToRecrypt(value, piiSecrets);
      expect(decrypted).toEqual(pair.expected(value));
      expect(fieldLengths(encrypted)['name']).toBe(twice(value.name)); // the JS client ran both rules
    });

    it(`recrypt writes once, as Java; reads its own output; the JS reader cannot (${sameKek ? 'same KEK' : 'different KEKs'})`, async () => {
      const pair = await sameTagPair(sameKek);
      const plainBytes = await pair.official().serializer.serialize(pair.plainTopic, { ...value });
      const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${pair.encTopic}-value`, targetTopic: pair.encTopic });
      const encrypted = output((await encrypt.transformer.process([sourceRecord(pair.plainTopic, plainBytes)]))[0]);
      expect(fieldLengths(encrypted)['name']).toBe(once(value.name));
      expect((avroType.fromBuffer(encrypted.subarray(5)) as Record<string, string>)['diagnosis']).toBe(value.diagnosis); // not PII
      const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${pair.plainTopic}-value`, targetTopic: pair.plainTopic });
      const back = output((await decrypt.transformer.process([sourceRecord(pair.encTopic, encrypted)]))[0]);
      expect(await pair.official().deserializer.deserialize(pair.plainTopic, back)).toEqual(value);
      // JS client divergence (see the file comment): it decrypts with "second" first and fails.
      await expect(pair.official().deserializer.deserialize(pair.encTopic, encrypted)).rejects.toThrow();
    });
  }
});
