// Issue 21, defect 2: a failure about the KEY (KEK mismatch, KMS refusal), not about the record, halts
// the record's partition with the key's own code whatever the rule's onFailure action; a failure about
// the record (tampered ciphertext) still takes the action. Before the fix, NONE on write let the record
// out with the field unencrypted (allowPlaintextOnEncryptFailure) and NONE on read let it out undecrypted.
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import { DekRegistryClient } from '../../../src/registry/index.js';
import type { Rule } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { errorText, haltOf, output } from './harness.js';

const CANARY = 'CANARY-key-failure-3b9d';
const schema = JSON.stringify({
  type: 'record', name: 'Person', namespace: 'keyfail',
  fields: [{ name: 'name', type: 'string', 'confluent:tags': ['PII'] }, { name: 'note', type: 'string' }],
});
const personType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

function withAction(rule: Rule, onFailure: string): Rule {
  return { ...rule, onFailure };
}

/** A plain source subject and an encrypted target whose KEK is registered with another key id than the rule's. */
async function mismatchedWrite(onFailure: string) {
  const source = uniqueName('plain');
  const target = uniqueName('enc');
  const kek = uniqueName('kek');
  await new DekRegistryClient({ baseUrls: [registry.url] }).createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'another-key', shared: false });
  await register(registry.url, `${target}-value`, { schemaType: 'AVRO', schema, ruleSet: { domainRules: [withAction(encryptRule('pii', kek), onFailure)] } });
  const sourceId = await register(registry.url, `${source}-value`, { schemaType: 'AVRO', schema });
  const frame = (i: number) => {
    const prefix = Buffer.alloc(5);
    prefix.writeInt32BE(sourceId, 1);
    return Buffer.concat([prefix, personType.toBuffer({ name: `${CANARY}-${i}`, note: 'n' })]);
  };
  return { source, target, frame };
}

function expectKeyHalt(result: Parameters<typeof haltOf>[0], code: string): RecryptError {
  const halt = haltOf(result);
  expect(halt.code).toBe(code);
  expect(halt.message).toMatch(/key cannot be used.*halts whatever onFailure/);
  expect(errorText(halt)).not.toContain(CANARY);
  return halt;
}

describe('a key failure halts whatever the rule action', () => {
  it.each(['ERROR', 'NONE', 'DLQ'])('write, KEK_MISMATCH, onFailure %s: every record halts with KEK_MISMATCH, nothing goes out', async (action) => {
    const { source, target, frame } = await mismatchedWrite(`${action},ERROR`);
    const { transformer } = await recryptEngine(registry.url, {
      mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target,
      // With the opt-in, NONE on write used to send the field out in plaintext.
      allowPlaintextOnEncryptFailure: true,
    });
    const results = await transformer.process([0, 1, 2].map((i) => sourceRecord(source, frame(i), i)));
    for (const r of results) expectKeyHalt(r, 'KEK_MISMATCH');
    expect(results.some((r) => 'outputs' in r)).toBe(false);
  });

  it('read, the KMS denies the unwrap, onFailure NONE: halts with KMS_ACCESS_DENIED (was: ciphertext passed on)', async () => {
    const enc = uniqueName('enc');
    const plain = uniqueName('plain');
    await register(registry.url, `${enc}-value`, { schemaType: 'AVRO', schema, ruleSet: { domainRules: [withAction(encryptRule('pii', uniqueName('kek')), 'ERROR,NONE')] } });
    await register(registry.url, `${plain}-value`, { schemaType: 'AVRO', schema });
    const encrypted = await officialSerdes(registry.url, 'AVRO').serializer.serialize(enc, { name: CANARY, note: 'n' });
    const denying: KmsDriver = {
      kmsType: 'local-kms',
      wrap: () => Promise.reject(new RecryptError('KMS_ACCESS_DENIED', 'local-kms refused the caller (test)')),
      unwrap: () => Promise.reject(new RecryptError('KMS_ACCESS_DENIED', 'local-kms refused the caller (test)')),
    };
    const { transformer } = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plain}-value`, targetTopic: plain, kms: [denying] });
    const [result] = await transformer.process([sourceRecord(enc, encrypted)]);
    expectKeyHalt(result, 'KMS_ACCESS_DENIED');
  });

  it('read, tampered ciphertext (a record failure), onFailure NONE: the action still applies', async () => {
    const enc = uniqueName('enc');
    const plain = uniqueName('plain');
    await register(registry.url, `${enc}-value`, { schemaType: 'AVRO', schema, ruleSet: { domainRules: [withAction(encryptRule('pii', uniqueName('kek')), 'ERROR,NONE')] } });
    await register(registry.url, `${plain}-value`, { schemaType: 'AVRO', schema });
    const encrypted = await officialSerdes(registry.url, 'AVRO').serializer.serialize(enc, { name: CANARY, note: 'n' });
    const value = personType.fromBuffer(encrypted.subarray(5)) as { name: string; note: string };
    const ct = Buffer.from(value.name, 'base64');
    ct[ct.length - 1]! ^= 0x01;
    const tampered = Buffer.concat([encrypted.subarray(0, 5), personType.toBuffer({ ...value, name: ct.toString('base64') })]);
    const { transformer } = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plain}-value`, targetTopic: plain });
    const [result] = await transformer.process([sourceRecord(enc, tampered)]);
    // NONE on read: the rule is skipped and the (still encrypted) value goes on, as before.
    expect(personType.fromBuffer(output(result).subarray(5))).toMatchObject({ name: ct.toString('base64'), note: 'n' });
  });
});
