import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldInfo } from '../../../src/formats/types.js';
import { fieldTags, ruleAppliesToTags, wildcardMatch } from '../../../src/rules/tags.js';

// The official JS client's matcher, used as the oracle.
const require = createRequire(import.meta.url);
const oracle = require('@confluentinc/schemaregistry/dist/serde/wildcard-matcher.js') as {
  match(str: string, pattern: string): boolean;
};

const TABLE: ReadonlyArray<[name: string, pattern: string, expected: boolean]> = [
  // the examples in the clients' doc comment
  ['eve', 'eve*', true],
  ['alice.bob.eve', 'a*.bob.eve', true],
  ['alice.bob.eve', 'a*.bob.e*', true],
  ['alice.bob.eve', 'a*', false],
  ['alice.bob.eve', 'a**', true],
  ['alice.bob.eve', 'alice.bob*', false],
  ['alice.bob.eve', 'alice.bob**', true],
  // * stays inside one dotted segment and may be empty
  ['ns.Rec.ssn', 'ns.Rec.*', true],
  ['ns.Rec.ssn', '*.Rec.ssn', true],
  ['ns.Rec.ssn', '*.ssn', false],
  ['ns.Rec.', 'ns.Rec.*', true],
  // ** crosses dots
  ['ns.Rec.ssn', '**.ssn', true],
  ['ns.a.b.Rec.ssn', 'ns.**.ssn', true],
  ['ssn', '**', true],
  ['ns.Rec.ssn', '**ssn', true],
  // **.* is rewritten to ** (so it also matches a single segment after the prefix)
  ['a.b', 'a.**.*', true],
  ['a.b.c', 'a.**.*', true],
  // ? is exactly one character other than .
  ['ns.Rec.f1', 'ns.Rec.f?', true],
  ['ns.Rec.f12', 'ns.Rec.f?', false],
  ['ns.Rec.f', 'ns.Rec.f?', false],
  ['ab', 'a?', true],
  ['a.', 'a?', false],
  // dots and regex metacharacters are literal
  ['nsXRec', 'ns.Rec', false],
  ['ns.Rec', 'ns.Rec', true],
  ['a+b', 'a+b', true],
  ['aab', 'a+b', false],
  ['a(b)', 'a(b)', true],
  ['a|b', 'a|b', true],
  ['a', 'a|b', false],
  ['a{2}', 'a{2}', true],
  ['$.a.b', '$.a.b', true],
  ['$.a.b', '$.a.*', true],
  ['$.a.b', '$.**', true],
  ['^a', '^a', true],
  // character classes pass through, as in the clients
  ['ns.Rec.a', 'ns.Rec.[ab]', true],
  ['ns.Rec.c', 'ns.Rec.[ab]', false],
  // an invalid expression matches nothing
  ['[', '[', false],
  // backslash: the clients emit "\\" + next char, so `a\*b` becomes /a\\*b/ (zero or more backslashes)
  ['ab', 'a\\*b', true],
  ['a\\b', 'a\\*b', true],
  ['a*b', 'a\\*b', false],
  ['a\\', 'a\\', true],
  // whole-name match only
  ['xns.Rec.ssn', 'ns.Rec.ssn', false],
  ['ns.Rec.ssnx', 'ns.Rec.ssn', false],
];

describe('wildcard matching', () => {
  it.each(TABLE)('%s ~ %s -> %s', (name, pattern, expected) => {
    expect(wildcardMatch(name, pattern)).toBe(expected);
    expect(oracle.match(name, pattern)).toBe(expected);
  });

  it('agrees with the official client on random names and patterns', () => {
    const nameChar = fc.constantFrom('a', 'b', 'c', '.', '1', '_', '$');
    const patChar = fc.constantFrom('a', 'b', 'c', '.', '*', '?', '1', '_', '$', '+', '(', ')', '|', '\\', '[', ']', '^', '{', '}');
    fc.assert(
      fc.property(fc.string({ unit: nameChar, maxLength: 10 }), fc.string({ unit: patChar, maxLength: 8 }), (name, pattern) => {
        expect(wildcardMatch(name, pattern)).toBe(oracle.match(name, pattern));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('fieldTags', () => {
  const field = (fullName: string, inlineTags: string[] = []): FieldInfo => ({ name: fullName.split('.').pop() ?? '', fullName, inlineTags, kind: 'string' });

  it('is the union of inline tags and every matching metadata.tags entry', () => {
    const tags = fieldTags(field('com.acme.User.ssn', ['PII']), {
      'com.acme.User.ssn': ['SENSITIVE'],
      '**.ssn': ['GOV_ID', 'PII'],
      'com.acme.*.ssn': ['ACME'],
      'com.*.ssn': ['NOPE'],
      'com.acme.User.name': ['NAME'],
    });
    expect([...tags].sort()).toEqual(['ACME', 'GOV_ID', 'PII', 'SENSITIVE']);
  });

  it('works without metadata tags', () => {
    expect([...fieldTags(field('x.y', ['A']), undefined)]).toEqual(['A']);
    expect(fieldTags(field('x.y'), {}).size).toBe(0);
  });

  it('JSON Schema full names', () => {
    expect([...fieldTags(field('$.customer.email'), { '$.customer.*': ['PII'] })]).toEqual(['PII']);
    expect(fieldTags(field('$.customer.address.zip'), { '$.customer.*': ['PII'] }).size).toBe(0);
  });
});

describe('ruleAppliesToTags', () => {
  it('a rule without tags applies to every field; otherwise tags must intersect', () => {
    expect(ruleAppliesToTags(undefined, new Set())).toBe(true);
    expect(ruleAppliesToTags([], new Set(['X']))).toBe(true);
    expect(ruleAppliesToTags(['PII'], new Set(['X', 'PII']))).toBe(true);
    expect(ruleAppliesToTags(['PII'], new Set(['X']))).toBe(false);
  });
});
