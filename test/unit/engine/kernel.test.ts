// The engine's kernel (src/engine/kernel/transform.ts) on its own: one record part, a plan table and a
// keyring in, an Outcome out; misses and rule failures come back as data, nothing is thrown or awaited.
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher, type FieldCipher } from '../../../src/crypto/index.js';
import { Kernel } from '../../../src/engine/kernel/transform.js';
import type { ActionPolicy, Keyring, Outcome, WriteKey } from '../../../src/engine/kernel/outcome.js';
import { compileSide } from '../../../src/engine/plan.js';
import { planOf, PlanTable } from '../../../src/engine/plan-table.js';
import type { LoadedSchema } from '../../../src/engine/schema-store.js';
import { createCodec } from '../../../src/formats/index.js';
import type { DekRef, Rule } from '../../../src/model/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { encodeFrame, encodeSchemaIdHeader, VALUE_SCHEMA_ID_HEADER } from '../../../src/wire/index.js';

const TOPIC = 'orders';
const avroSchema = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string', 'confluent:tags': ['PII'] }] });
const encrypt = (onFailure?: string): Rule => ({
  name: 'enc', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k' },
  ...(onFailure ? { onFailure } : {}),
});

function loaded(id: number, rules: Rule[]): LoadedSchema {
  const info = { id, schemaType: 'AVRO' as const, schema: avroSchema, ...(rules.length ? { ruleSet: { domainRules: rules } } : {}) };
  return { id, schemaType: 'AVRO', info, references: new Map() };
}

/** Plans from writer schema `from` (read rules) to target schema `to` (write rules), for topic TOPIC. */
function table(from: LoadedSchema, to: LoadedSchema): PlanTable {
  const read = compileSide(from, createCodec(from.info), 'read', 'orders-value');
  const write = compileSide(to, createCodec(to.info), 'write', 'orders-value');
  const plans = new PlanTable();
  plans.setSchemaType(TOPIC, { id: from.id }, 'AVRO');
  plans.set(TOPIC, { id: from.id }, undefined, planOf(read, write, from.id === to.id));
  return plans;
}

class FakeKeyring implements Keyring {
  readonly reads = new Map<number, FieldCipher>();
  write: WriteKey | undefined;
  readCipher(_ref: DekRef, version: number): FieldCipher | undefined {
    return this.reads.get(version);
  }
  writeKey(): WriteKey | undefined {
    return this.write;
  }
}

const policy = (dlq = false): ActionPolicy => ({ allowPlaintextOnEncryptFailure: false, dlqAccepts: () => dlq });
const cipher = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 7));
const codec = createCodec({ schema: avroSchema });
const record = (value: Buffer | null, headers: { key: string; value: Buffer }[] = []) => ({ topic: TOPIC, key: null, value, headers });
const plainValue = (id: number, a = 'secret-123') => encodeFrame(id, codec.encode({ a }));

function ok(outcome: Outcome): { bytes: Buffer | null; dropHeader: boolean } {
  if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${outcome.kind}`);
  return outcome;
}

describe('Kernel.transform', () => {
  const plainToEnc = table(loaded(1, []), loaded(2, [encrypt()]));

  it('a writer schema without a plan: a schema miss naming the topic and the reference', () => {
    const outcome = new Kernel(new FakeKeyring(), policy()).transform(record(plainValue(9)), 'value', plainToEnc, new Set());
    expect(outcome).toEqual({ kind: 'schema-miss', topic: TOPIC, ref: { id: 9 }, indexes: undefined });
  });

  it('a write DEK not in the keyring: a DEK miss with the step\'s DekRef and no version; with it, the encrypted part', () => {
    const keyring = new FakeKeyring();
    const kernel = new Kernel(keyring, policy());
    const miss = kernel.transform(record(plainValue(1)), 'value', plainToEnc, new Set());
    expect(miss).toMatchObject({ kind: 'dek-miss', version: undefined, dek: { kekName: 'k', scope: 'orders-value', algorithm: 'AES256_GCM' } });
    keyring.write = { version: 1, cipher };
    const { bytes, dropHeader } = ok(kernel.transform(record(plainValue(1)), 'value', plainToEnc, new Set()));
    expect(dropHeader).toBe(false);
    expect(bytes!.readInt32BE(1)).toBe(2);
    expect(bytes!.includes(Buffer.from('secret-123'))).toBe(false);
    expect(kernel.drainStats().encrypted.AES256_GCM).toBe(1);
  });

  it('a read DEK version not in the keyring: a DEK miss with that version; with it, the plaintext', () => {
    const writer = new FakeKeyring();
    writer.write = { version: 1, cipher };
    const encrypted = ok(new Kernel(writer, policy()).transform(record(plainValue(1)), 'value', plainToEnc, new Set())).bytes!;
    const encToPlain = table(loaded(2, [encrypt()]), loaded(1, []));
    const keyring = new FakeKeyring();
    const kernel = new Kernel(keyring, policy());
    expect(kernel.transform(record(encrypted), 'value', encToPlain, new Set())).toMatchObject({ kind: 'dek-miss', version: 1 });
    keyring.reads.set(1, cipher);
    const { bytes } = ok(kernel.transform(record(encrypted), 'value', encToPlain, new Set()));
    expect(codec.decode(bytes!.subarray(5))).toEqual({ a: 'secret-123' });
    expect(kernel.drainStats().decrypted.AES256_GCM).toBe(1);
  });

  it('a rule that fails: a rule failure with step, direction and the action that applies here; skipped, the step does not run', () => {
    const garbled = plainValue(2, 'bm90IGEgY2lwaGVydGV4dCBhdCBhbGwgLSBqdXN0IHRleHQ=');
    const keyring = new FakeKeyring();
    keyring.reads.set(1, cipher);
    const dlqRule = table(loaded(2, [encrypt('DLQ')]), loaded(1, []));
    const noDlq = new Kernel(keyring, policy(false)).transform(record(garbled), 'value', dlqRule, new Set());
    expect(noDlq).toMatchObject({ kind: 'rule-failure', direction: 'read', action: 'ERROR', keyFailure: false });
    const withDlq = new Kernel(keyring, policy(true)).transform(record(garbled), 'value', dlqRule, new Set());
    expect(withDlq).toMatchObject({ kind: 'rule-failure', direction: 'read', action: 'DLQ' });
    const failure = withDlq as Extract<Outcome, { kind: 'rule-failure' }>;
    expect(failure.step.rule.name).toBe('enc');
    expect(failure.error).toBeInstanceOf(RecryptError);
    const skipped = new Kernel(keyring, policy(true)).transform(record(garbled), 'value', dlqRule, new Set([failure.step]));
    expect(ok(skipped).bytes!.subarray(5)).toEqual(garbled.subarray(5));
  });

  it('bytes that do not read: failed with the wire error; a tombstone: ok with no bytes', () => {
    const kernel = new Kernel(new FakeKeyring(), policy());
    const bad = kernel.transform(record(Buffer.from([7, 0, 0, 0, 1, 2])), 'value', plainToEnc, new Set());
    expect(bad.kind).toBe('failed');
    expect((bad as { error: RecryptError }).error.code).toBe('WIRE_UNKNOWN_MAGIC');
    expect(kernel.transform(record(null), 'value', plainToEnc, new Set())).toEqual({ kind: 'ok', bytes: null, dropHeader: false });
  });

  it('the schema id in the part\'s header: the header goes, the id moves into the bytes; the key part is looked up on its own', () => {
    const keyring = new FakeKeyring();
    keyring.write = { version: 1, cipher };
    const kernel = new Kernel(keyring, policy());
    const headers = [{ key: VALUE_SCHEMA_ID_HEADER, value: encodeSchemaIdHeader({ id: 1 }) }];
    const payload = codec.encode({ a: 'secret-123' });
    const { bytes, dropHeader } = ok(kernel.transform(record(payload, headers), 'value', plainToEnc, new Set()));
    expect(dropHeader).toBe(true);
    expect(bytes!.readInt32BE(1)).toBe(2);
    // The key part has no bytes here: nothing to transform, whatever the value holds.
    expect(kernel.transform(record(payload, headers), 'key', plainToEnc, new Set())).toEqual({ kind: 'ok', bytes: null, dropHeader: false });
  });
});
