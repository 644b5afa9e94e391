import { describe, expect, it } from 'vitest';
import { compileSide } from '../../../src/engine/plan.js';
import type { LoadedSchema } from '../../../src/engine/schema-store.js';
import { createCodec } from '../../../src/formats/index.js';
import type { Rule } from '../../../src/registry/types.js';

const rule = (name: string, tags: string[], kek = 'k'): Rule => ({
  name, kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags, params: { 'encrypt.kek.name': kek },
});

function side(rules: Rule[], direction: 'read' | 'write', scopeOf?: (subject: string) => string) {
  const info = {
    id: 1, schemaType: 'AVRO' as const, ruleSet: { domainRules: rules },
    schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string', 'confluent:tags': ['PII', 'PHI'] }] }),
  };
  const schema: LoadedSchema = { id: 1, schemaType: 'AVRO', info, references: new Map() };
  return compileSide(schema, createCodec(info, new Map()), direction, 'enc-value', undefined, scopeOf);
}

describe('compileSide: DEK refs', () => {
  it('names the schema subject as the DEK scope by default, with the rule\'s KEK and algorithm', () => {
    const [step] = side([rule('r1', ['PII'])], 'write').domain;
    expect(step?.kind === 'field' ? step.dek : undefined).toEqual({ kekName: 'k', scope: 'enc-value', algorithm: 'AES256_GCM' });
  });

  it('asks the scope resolver once per step, at compile time', () => {
    const asked: string[] = [];
    const steps = side([rule('r1', ['PII']), rule('r2', ['PHI'], 'k2')], 'write', (subject) => {
      asked.push(subject);
      return 'group-a';
    }).domain;
    expect(asked).toEqual(['enc-value', 'enc-value']);
    expect(steps.map((s) => (s.kind === 'field' ? s.dek.scope : undefined))).toEqual(['group-a', 'group-a']);
    expect(steps.map((s) => s.subject)).toEqual(['enc-value', 'enc-value']);
  });
});

describe('compileSide: rules of one same-tag set', () => {
  const rules = [rule('first', ['PII'], 'k1'), rule('other', ['PHI'], 'k2'), rule('second', ['PII'], 'k3')];

  it('write runs the first of the set only (Java/Go/Python)', () => {
    expect(side(rules, 'write').domain.map((s) => [s.rule.name, s.tolerant ?? false])).toEqual([['first', false], ['other', false]]);
  });

  it('read runs in reverse list order, the overridden rule tolerantly (the JS client wrote it too)', () => {
    expect(side(rules, 'read').domain.map((s) => [s.rule.name, s.tolerant ?? false])).toEqual([
      ['second', true], ['other', false], ['first', false],
    ]);
  });

  it('different tag sets are never tolerant', () => {
    const read = side([rule('x', ['PII']), rule('y', ['PII', 'PHI'])], 'read');
    expect(read.domain.map((s) => [s.rule.name, s.tolerant ?? false])).toEqual([['y', false], ['x', false]]);
  });
});
