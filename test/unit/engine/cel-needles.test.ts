// engine/cel-needles.ts: what the DLQ guard must also look for when a plan runs CEL_FIELD transforms.
import { describe, expect, it } from 'vitest';
import { collectDerived } from '../../../src/engine/cel-needles.js';
import { compileSide } from '../../../src/engine/plan.js';
import { planOf } from '../../../src/engine/plan-table.js';
import type { LoadedSchema } from '../../../src/engine/schema-store.js';
import { createCodec, type FieldInfo } from '../../../src/formats/index.js';
import type { Rule } from '../../../src/model/index.js';

const schema = JSON.stringify({
  type: 'record', name: 'Order', namespace: 'n',
  fields: [
    { name: 'ssn', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'note', type: 'string' },
  ],
});
const encrypt: Rule = { name: 'enc', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k' } };
const loaded = (id: number, rules: Rule[]): LoadedSchema => ({
  id, schemaType: 'AVRO', references: new Map(), info: { id, schemaType: 'AVRO', schema, ...(rules.length ? { ruleSet: { domainRules: rules } } : {}) },
});

function derived(readRules: Rule[], writeRules: Rule[], value: Record<string, string>): unknown[] {
  const from = loaded(1, readRules);
  const to = loaded(2, writeRules);
  const plan = planOf(compileSide(from, createCodec(from.info), 'read', 's'), compileSide(to, createCodec(to.info), 'write', 't'), false);
  const out: unknown[] = [];
  const tagged = (f: FieldInfo) => f.name !== 'note';
  collectDerived(plan, { ...value }, tagged, (v) => { out.push(v); return v; });
  return out;
}

const value = { ssn: '123-45-6789', email: 'me@example.com', note: 'n' };

describe('collectDerived', () => {
  it('collects what write-side CEL_FIELD transforms put into tagged leaves, and the tagged leaves after them', () => {
    const out = derived([], [{ name: 'shout', type: 'CEL_FIELD', tags: ['PII'], expr: "name == 'email' ; value.upperAscii()" }, encrypt], value);
    expect(out).toContain('ME@EXAMPLE.COM');
    expect(out).toContain('123-45-6789');
  });

  it('an expression that reads message may copy a tagged value anywhere: its outputs in untagged leaves count too', () => {
    const out = derived([], [{ name: 'copy', type: 'CEL_FIELD', expr: "name == 'note' ; message.ssn + '!'" }, encrypt], value);
    expect(out).toContain('123-45-6789!');
  });

  it('an untagged value a message-reading transform leaves unchanged is no needle (it would block every DLQ record carrying it)', () => {
    const keep = { name: 'keep', type: 'CEL_FIELD', expr: "name == 'note' ; message.ssn.size() > 100 ? message.ssn : value" };
    const out = derived([], [keep, encrypt], { ...value, note: 'ordinary-note' });
    expect(out).not.toContain('ordinary-note');
    expect(out).toContain('123-45-6789');
    // A tagged leaf's output is collected even when unchanged.
    const same = derived([], [{ name: 'same', type: 'CEL_FIELD', tags: ['PII'], expr: "name == 'ssn' ; message.note == '' ? '' : value" }, encrypt], value);
    expect(same).toContain('123-45-6789');
  });

  it('read-side transforms run too; an expression that fails ends the run, keeping what was collected', () => {
    const out = derived([{ name: 'bad', type: 'CEL_FIELD', expr: 'int(value) > 0' }, { name: 'r', type: 'CEL_FIELD', tags: ['PII'], expr: "name == 'ssn' ; value + '#'" }], [encrypt], value);
    expect(out).toContain('123-45-6789#');
  });

  it('nothing to derive without CEL_FIELD transforms beyond the tagged leaves', () => {
    expect(derived([], [{ name: 'c', type: 'CEL', kind: 'CONDITION', expr: 'true' }, encrypt], value)).not.toContain('ME@EXAMPLE.COM');
  });
});
