// CEL and CEL_FIELD steps in the kernel: compiled into the plan from the schema and rule alone, run in
// list order between ENCRYPT steps (a CEL_FIELD before ENCRYPT sees plaintext, after it the base64
// ciphertext), a false condition or an expression that throws on the record is that record's rule
// failure with its action, plans with CEL steps take the general path, and no record value reaches the
// failure's error.
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher, type FieldCipher } from '../../../src/crypto/index.js';
import { Kernel } from '../../../src/engine/kernel/transform.js';
import type { ActionPolicy, Keyring, Outcome, WriteKey } from '../../../src/engine/kernel/outcome.js';
import { compileSide, isCelStep, isKeyedStep, type Step } from '../../../src/engine/plan.js';
import { planOf, PlanTable } from '../../../src/engine/plan-table.js';
import type { LoadedSchema } from '../../../src/engine/schema-store.js';
import { createCodec } from '../../../src/formats/index.js';
import type { DekRef, Rule } from '../../../src/model/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { encodeFrame } from '../../../src/wire/index.js';

const TOPIC = 'orders';
const avroSchema = JSON.stringify({
  type: 'record', name: 'Order', namespace: 'shop',
  fields: [
    { name: 'ssn', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'note', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'qty', type: 'long' },
    { name: 'flag', type: 'boolean' },
  ],
});
const codec = createCodec({ schema: avroSchema });
const encrypt: Rule = { name: 'enc', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k' } };
const cel = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: 'CONDITION', mode: 'WRITEREAD', type: 'CEL', expr, ...extra });
const celField = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'CEL_FIELD', expr, ...extra });

function loaded(id: number, rules: Rule[]): LoadedSchema {
  const info = { id, version: id, schemaType: 'AVRO' as const, schema: avroSchema, ...(rules.length ? { ruleSet: { domainRules: rules } } : {}) };
  return { id, schemaType: 'AVRO', info, references: new Map() };
}

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

const cipher = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 7));
const policy = (dlq = false): ActionPolicy => ({ allowPlaintextOnEncryptFailure: false, dlqAccepts: () => dlq });
const order = (over: Partial<Record<string, unknown>> = {}) => ({ ssn: '123-45-6789', note: 'hello', amount: 10.5, qty: 3, flag: true, ...over });
const record = (id: number, value: Record<string, unknown>) => ({ topic: TOPIC, key: null, value: encodeFrame(id, codec.encode(value)), headers: [] });
const decoded = (outcome: Outcome) => {
  if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${outcome.kind}: ${JSON.stringify(outcome)}`);
  return codec.decode(outcome.bytes!.subarray(5)) as Record<string, unknown>;
};
const keyring = () => {
  const k = new FakeKeyring();
  k.write = { version: 1, cipher };
  k.reads.set(1, cipher);
  return k;
};

describe('CEL steps in plans', () => {
  it('compile into keyless steps the kernel runs; a CEL TRANSFORM and encoding-phase CEL stay unsupported', () => {
    const schema = loaded(1, [cel('c', 'message.amount > 0.0'), celField('f', "value + '!'"), { name: 't', type: 'CEL', kind: 'TRANSFORM', expr: 'message' }, encrypt]);
    const side = compileSide(schema, codec, 'write', 'orders-value');
    expect(side.domain.map((s) => (isCelStep(s) ? s.cel.type : s.kind))).toEqual(['CEL', 'CEL_FIELD', 'unsupported', 'field']);
    expect(side.domain.filter(isKeyedStep).map((s) => s.rule.name)).toEqual(['enc']);
  });

  it('refuses an expression that does not compile with subject, version and rule name, and onSuccess DLQ', () => {
    expect(() => compileSide(loaded(4, [cel('bad', 'message.amount >')]), codec, 'read', 'orders-value')).toThrow(
      /^subject orders-value version 4 rule bad: CEL expression does not compile: /,
    );
    expect(() => compileSide(loaded(4, [cel('ok', 'true', { onSuccess: 'DLQ' })]), codec, 'read', 'orders-value')).toThrow(RecryptError);
  });

  it('plans with a CEL step take the general path (no splicer)', () => {
    const plain = table(loaded(1, [encrypt]), loaded(1, [encrypt]));
    const withCel = table(loaded(2, [cel('c', 'true'), encrypt]), loaded(2, [cel('c', 'true'), encrypt]));
    expect(plain.get(TOPIC, { id: 1 }, undefined)!.spliced).not.toBeNull();
    expect(withCel.get(TOPIC, { id: 2 }, undefined)!.spliced).toBeNull();
  });
});

describe('Kernel with CEL steps', () => {
  it('write: a CEL_FIELD listed before ENCRYPT sees plaintext, one after it sees the base64 ciphertext', () => {
    const rules = [
      celField('mask', "value.substring(0, 3) + '-**-****'", { tags: ['PII'] }),
      encrypt,
      // note := whether the PII field already holds ciphertext (base64, not the masked text) when it runs
      celField('seen', "name == 'note' ; message.ssn.startsWith('123') ? 'plain' : 'cipher'"),
    ];
    const plans = table(loaded(1, []), loaded(2, rules));
    const out = decoded(new Kernel(keyring(), policy()).transform(record(1, order()), 'value', plans, new Set()));
    expect(out['note']).toBe('cipher');
    expect(cipher.decrypt(Buffer.from(out['ssn'] as string, 'base64')).toString()).toBe('123-**-****');
  });

  it('read runs the writer rules in reverse: the CEL_FIELD listed after ENCRYPT runs first, on ciphertext', () => {
    const rules = [encrypt, celField('after', "name == 'note' ; message.ssn.startsWith('123') ? 'plain' : 'cipher'", { mode: 'READ' })];
    const encrypted = { ...order(), ssn: cipher.encrypt(Buffer.from('123-45-6789')).toString('base64') };
    const plans = table(loaded(2, rules), loaded(1, []));
    const out = decoded(new Kernel(keyring(), policy()).transform(record(2, encrypted), 'value', plans, new Set()));
    expect(out).toMatchObject({ ssn: '123-45-6789', note: 'cipher' });
  });

  it('binds name, fullName, typeName and tags as the executors do; a guard false leaves the value', () => {
    const rules = [
      celField('names', "typeName == 'STRING' && name == 'note' ; fullName + '|' + tags.join(',')"),
      celField('pii', "'PII' in tags ; value + '|' + typeName", { tags: ['PII'] }),
      celField('ints', "typeName == 'INT' ; value * 2.0"),
      celField('bools', "typeName == 'BOOLEAN' ; !value"),
    ];
    const plans = table(loaded(1, []), loaded(2, rules));
    const out = decoded(new Kernel(keyring(), policy()).transform(record(1, order()), 'value', plans, new Set()));
    expect(out).toMatchObject({ note: 'shop.Order.note|', ssn: '123-45-6789|STRING', qty: 6, flag: false, amount: 10.5 });
  });

  it.each([
    ['ERROR', false, 'ERROR'],
    ['DLQ', true, 'DLQ'],
    ['DLQ', false, 'ERROR'],
    ['NONE', false, 'NONE'],
  ])('a false CONDITION with onFailure %s (DLQ writer: %s) is a rule failure with action %s, on write too', (onFailure, dlq, action) => {
    const rules = [cel('positive', 'message.amount > 0.0', { onFailure }), encrypt];
    const plans = table(loaded(1, []), loaded(2, rules));
    const kernel = new Kernel(keyring(), policy(dlq));
    const outcome = kernel.transform(record(1, order({ amount: -1 })), 'value', plans, new Set());
    expect(outcome).toMatchObject({ kind: 'rule-failure', direction: 'write', action, keyFailure: false });
    const failure = outcome as Extract<Outcome, { kind: 'rule-failure' }>;
    expect(failure.error.code).toBe('RULE_CONDITION_FAILED');
    expect(failure.error.message).toBe('rule positive: CEL condition is false');
    // NONE: the driver runs the record again without the step; ENCRYPT still runs.
    const again = decoded(kernel.transform(record(1, order({ amount: -1 })), 'value', plans, new Set<Step>([failure.step])));
    expect(again['ssn']).not.toBe('123-45-6789');
    // A record the condition holds for passes.
    expect(decoded(kernel.transform(record(1, order()), 'value', plans, new Set()))['amount']).toBe(10.5);
  });

  it('a write-side CEL_FIELD TRANSFORM that fails with NONE is ERROR unless the job opted in (the unmasked value would go out)', () => {
    const rules = [celField('mask', "name == 'note' ; string(int(value))", { onFailure: 'NONE' })];
    const plans = table(loaded(1, []), loaded(2, rules));
    const strict = new Kernel(keyring(), policy()).transform(record(1, order()), 'value', plans, new Set());
    expect(strict).toMatchObject({ kind: 'rule-failure', direction: 'write', action: 'ERROR', error: { code: 'RULE_EXPRESSION_FAILED' } });
    const optedIn = new Kernel(keyring(), { ...policy(), allowPlaintextOnEncryptFailure: true }).transform(record(1, order()), 'value', plans, new Set());
    expect(optedIn).toMatchObject({ kind: 'rule-failure', direction: 'write', action: 'NONE' });
    // A CEL_FIELD CONDITION changes no value: its NONE stays NONE on write without the opt-in.
    const check = table(loaded(1, []), loaded(3, [celField('shape', "name == 'ssn' ; value.matches('^[a-z]+$')", { kind: 'CONDITION', onFailure: 'NONE' })]));
    const condition = new Kernel(keyring(), policy()).transform(record(1, order()), 'value', check, new Set());
    expect(condition).toMatchObject({ kind: 'rule-failure', direction: 'write', action: 'NONE', error: { code: 'RULE_CONDITION_FAILED' } });
  });

  it('a false CEL_FIELD CONDITION on read fails the record with the rule\'s action', () => {
    const rules = [celField('ssn-shape', "name == 'ssn' ; value.matches('^[0-9-]+$')", { kind: 'CONDITION', onFailure: 'NONE' })];
    const plans = table(loaded(2, rules), loaded(1, []));
    const outcome = new Kernel(keyring(), policy()).transform(record(2, order({ ssn: 'abc' })), 'value', plans, new Set());
    expect(outcome).toMatchObject({ kind: 'rule-failure', direction: 'read', action: 'NONE', error: { code: 'RULE_CONDITION_FAILED' } });
  });

  it('an expression that throws on a record is its rule failure, and the error holds no record value', () => {
    const canary = 'CANARY-7731';
    const rules = [
      celField('to-int', "name == 'note' ; string(int(value))"),
    ];
    const plans = table(loaded(1, []), loaded(2, rules));
    const outcome = new Kernel(keyring(), policy()).transform(record(1, order({ note: canary })), 'value', plans, new Set());
    expect(outcome).toMatchObject({ kind: 'rule-failure', action: 'ERROR', error: { code: 'RULE_EXPRESSION_FAILED' } });
    const text = JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) + String((outcome as { error: Error }).error.stack);
    expect(text).not.toContain(canary);
    const lookup = table(loaded(1, []), loaded(3, [cel('lookup', 'message[message.note] == 1')]));
    const o2 = new Kernel(keyring(), policy()).transform(record(1, order({ note: canary })), 'value', lookup, new Set());
    expect(o2).toMatchObject({ kind: 'rule-failure', error: { code: 'RULE_EXPRESSION_FAILED' } });
    expect((o2 as { error: Error }).error.message).not.toContain(canary);
  });

  it('a transform result that does not fit the field is a rule failure', () => {
    const plans = table(loaded(1, []), loaded(2, [celField('num', "name == 'note' ; 5")]));
    const outcome = new Kernel(keyring(), policy()).transform(record(1, order()), 'value', plans, new Set());
    expect(outcome).toMatchObject({ kind: 'rule-failure', error: { code: 'RULE_EXPRESSION_FAILED', message: 'rule num: CEL_FIELD result does not fit a STRING field' } });
  });

  it('disabled rules and rules of the other mode do not run', () => {
    const rules = [cel('off', 'false', { disabled: true }), cel('readonly', 'false', { mode: 'READ' })];
    const plans = table(loaded(1, []), loaded(2, rules));
    expect(decoded(new Kernel(keyring(), policy()).transform(record(1, order()), 'value', plans, new Set()))['note']).toBe('hello');
  });
});

describe('Kernel with CEL steps on Protobuf', () => {
  const proto = 'syntax = "proto3";\npackage p;\nmessage M {\n  int64 qty = 1;\n  uint64 big = 2;\n  string note = 3;\n}\n';
  const pbLoaded = (id: number, rules: Rule[]): LoadedSchema => ({
    id, schemaType: 'PROTOBUF', references: new Map(),
    info: { id, schemaType: 'PROTOBUF', schema: proto, ...(rules.length ? { ruleSet: { domainRules: rules } } : {}) },
  });
  it('int64 leaves are CEL ints, uint64 uints; a transform result goes back into the int64 field', () => {
    const pb = createCodec({ schemaType: 'PROTOBUF', schema: proto });
    const from = pbLoaded(1, []);
    const to = pbLoaded(2, [cel('types', 'message.qty == 3 && message.big == 18446744073709551615u'), celField('double-it', "name == 'qty' ; value * 2 + 4611686018427387904")]);
    const plans = new PlanTable();
    plans.setSchemaType(TOPIC, { id: 1 }, 'PROTOBUF');
    plans.set(TOPIC, { id: 1 }, [0], planOf(compileSide(from, pb, 'read', 's', [0]), compileSide(to, pb, 'write', 's', [0]), false));
    const value = pb.encode({ qty: 3, big: { low: -1, high: -1, unsigned: true }, note: 'x' });
    const outcome = new Kernel(keyring(), policy()).transform({ topic: TOPIC, key: null, value: encodeFrame(1, value, [0]), headers: [] }, 'value', plans, new Set());
    if (outcome.kind !== 'ok') throw new Error(JSON.stringify(outcome));
    const back = pb.decode(outcome.bytes!.subarray(6)) as { qty: { toString(): string } };
    expect(back.qty.toString()).toBe(String(6n + 2n ** 62n));
  });
});
