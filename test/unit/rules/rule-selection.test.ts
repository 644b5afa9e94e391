import { describe, expect, it } from 'vitest';
import type { Rule, RuleSet } from '../../../src/registry/types.js';
import { isOverriddenBy, isRuleSetEnabled, phasesFor, selectRules } from '../../../src/rules/rule-selection.js';
import { RecryptError } from '../../../src/util/errors.js';

const enc = (name: string, over: Partial<Rule> = {}): Rule => ({
  name,
  kind: 'TRANSFORM',
  type: 'ENCRYPT',
  mode: 'WRITEREAD',
  tags: [name.toUpperCase()],
  params: { 'encrypt.kek.name': 'kek1' },
  ...over,
});
const names = (rs: ReturnType<typeof selectRules>): string[] => rs.rules.map((s) => s.rule.name);

describe('selectRules order', () => {
  const ruleSet: RuleSet = { domainRules: [enc('a'), enc('b'), enc('c')] };

  it('write runs domain rules in list order', () => {
    expect(names(selectRules(ruleSet, 'write'))).toEqual(['a', 'b', 'c']);
  });

  it('read runs domain rules in reverse list order, keeping list indexes', () => {
    const sel = selectRules(ruleSet, 'read');
    expect(names(sel)).toEqual(['c', 'b', 'a']);
    expect(sel.rules.map((r) => r.index)).toEqual([2, 1, 0]);
  });

  it('encoding rules are selected separately, reversed on read', () => {
    const rs: RuleSet = {
      domainRules: [enc('d')],
      encodingRules: [enc('p1', { type: 'ENCRYPT_PAYLOAD', tags: [] }), enc('p2', { type: 'ENCRYPT_PAYLOAD', tags: [] })],
    };
    expect(names(selectRules(rs, 'write', { phase: 'encoding' }))).toEqual(['p1', 'p2']);
    expect(names(selectRules(rs, 'read', { phase: 'encoding' }))).toEqual(['p2', 'p1']);
    expect(names(selectRules(rs, 'write'))).toEqual(['d']);
    expect(phasesFor('write')).toEqual(['domain', 'encoding']);
    expect(phasesFor('read')).toEqual(['encoding', 'domain']);
  });

  it('an empty or missing rule set selects nothing', () => {
    expect(selectRules(undefined, 'write').rules).toEqual([]);
    expect(selectRules({}, 'read').rules).toEqual([]);
  });
});

describe('selectRules mode filter', () => {
  const rs: RuleSet = {
    domainRules: [
      enc('wr', { mode: 'WRITEREAD' }),
      enc('w', { mode: 'WRITE' }),
      enc('r', { mode: 'READ' }),
      enc('dflt', { mode: undefined }),
      enc('up', { mode: 'UPGRADE' }),
      enc('down', { mode: 'DOWNGRADE' }),
      enc('updown', { mode: 'UPDOWN' }),
    ],
  };

  it('write: WRITEREAD, WRITE and the default mode', () => {
    expect(names(selectRules(rs, 'write'))).toEqual(['wr', 'w', 'dflt']);
  });

  it('read: WRITEREAD, READ and the default mode', () => {
    expect(names(selectRules(rs, 'read'))).toEqual(['dflt', 'r', 'wr']);
  });

  it('migration modes never run as domain rules and are reported as skipped', () => {
    const sel = selectRules(rs, 'write');
    expect(sel.skipped.filter((s) => s.reason === 'mode').map((s) => s.rule.name)).toEqual(['r', 'up', 'down', 'updown']);
  });

  it('unknown modes and kinds are RULE_INVALID', () => {
    const bad = (r: Rule): unknown => selectRules({ domainRules: [r] }, 'write');
    expect(() => bad(enc('x', { mode: 'WRITE_READ' as never }))).toThrow(RecryptError);
    expect(() => bad(enc('x', { kind: 'MUTATE' as never }))).toThrow(/unknown kind/);
  });
});

describe('selectRules disabled and enableAt', () => {
  it('skips disabled rules', () => {
    const sel = selectRules({ domainRules: [enc('a'), enc('b', { disabled: true }), enc('c')] }, 'write');
    expect(names(sel)).toEqual(['a', 'c']);
    expect(sel.skipped).toMatchObject([{ index: 1, reason: 'disabled' }]);
  });

  it('enableAt absent, ALL or CLIENT keeps rules enabled (JS and Go clients)', () => {
    for (const enableAt of [undefined, 'ALL', 'CLIENT', '']) {
      const rs = { domainRules: [enc('a')], enableAt } as unknown as RuleSet;
      expect(isRuleSetEnabled(rs)).toBe(true);
      expect(names(selectRules(rs, 'write'))).toEqual(['a']);
    }
  });

  it('any other enableAt disables every rule, both directions, and says so', () => {
    for (const enableAt of ['SERVER', 1_700_000_000_000]) {
      const rs = { domainRules: [enc('a'), enc('b')], enableAt } as unknown as RuleSet;
      for (const dir of ['write', 'read'] as const) {
        const sel = selectRules(rs, dir);
        expect(sel.rules).toEqual([]);
        expect(sel.disabledByEnableAt).toBe(true);
        expect(sel.skipped.every((s) => s.reason === 'enableAt')).toBe(true);
      }
    }
  });
});

describe('selectRules same-tag overriding (Confluent serde semantics)', () => {
  it('of two ENCRYPT rules with the same kind, mode, type and tag set only the FIRST runs, both directions', () => {
    const rs: RuleSet = {
      domainRules: [
        enc('first', { tags: ['PII', 'GOV'], params: { 'encrypt.kek.name': 'old' } }),
        enc('other', { tags: ['PHI'] }),
        enc('last', { tags: ['GOV', 'PII'], params: { 'encrypt.kek.name': 'new' } }),
      ],
    };
    const w = selectRules(rs, 'write');
    expect(names(w)).toEqual(['first', 'other']);
    expect(w.skipped).toMatchObject([{ index: 2, reason: 'overridden', overriddenBy: 0 }]);
    expect(names(selectRules(rs, 'read'))).toEqual(['other', 'first']);
  });

  it('duplicated tags do not matter: tags compare as sets', () => {
    expect(isOverriddenBy(enc('a', { tags: ['X', 'X', 'Y'] }), enc('b', { tags: ['Y', 'X'] }))).toBe(true);
  });

  it('different mode, type, kind or tag set: both run (a field tagged for both is encrypted twice)', () => {
    const cases: Array<[Partial<Rule>, Partial<Rule>]> = [
      [{ tags: ['PII'] }, { tags: ['PII', 'X'] }],
      [{ tags: ['PII'], mode: 'WRITEREAD' }, { tags: ['PII'], mode: 'WRITE' }],
      [{ tags: ['PII'] }, { tags: ['PII'], type: 'CEL_FIELD' }],
    ];
    for (const [a, b] of cases) {
      expect(names(selectRules({ domainRules: [enc('a', a), enc('b', b)] }, 'write'))).toEqual(['a', 'b']);
    }
    // default mode (WRITEREAD) and default kind (TRANSFORM) compare equal to the explicit ones
    expect(isOverriddenBy(enc('a', { tags: ['P'], mode: undefined, kind: undefined }), enc('b', { tags: ['P'] }))).toBe(true);
  });

  it('rules without tags and CONDITION rules are never overridden', () => {
    expect(names(selectRules({ domainRules: [enc('a', { tags: [] }), enc('b', { tags: [] })] }, 'write'))).toEqual(['a', 'b']);
    const cond = { kind: 'CONDITION' as const, type: 'CEL_FIELD', tags: ['P'] };
    expect(names(selectRules({ domainRules: [enc('a', cond), enc('b', cond)] }, 'write'))).toEqual(['a', 'b']);
  });

  it('only field-level rule types take part (ENCRYPT_PAYLOAD does not)', () => {
    const p = { type: 'ENCRYPT_PAYLOAD', tags: ['P'] };
    expect(names(selectRules({ encodingRules: [enc('a', p), enc('b', p)] }, 'write', { phase: 'encoding' }))).toEqual(['a', 'b']);
  });

  it('an earlier DISABLED rule with the same tags still overrides a later one (the serde compares the whole list)', () => {
    const sel = selectRules({ domainRules: [enc('a', { tags: ['P'], disabled: true }), enc('b', { tags: ['P'] })] }, 'write');
    expect(sel.rules).toEqual([]);
    expect(sel.skipped.map((s) => s.reason)).toEqual(['disabled', 'overridden']);
  });
});

describe('selectRules __rule.name header', () => {
  const rs: RuleSet = { domainRules: [enc('a'), enc('b')] };

  it('a reader skips the named rule', () => {
    const sel = selectRules(rs, 'read', { skipRuleName: 'b' });
    expect(names(sel)).toEqual(['a']);
    expect(sel.skipped).toMatchObject([{ index: 1, reason: 'ruleNameHeader' }]);
  });

  it('a writer ignores it', () => {
    expect(names(selectRules(rs, 'write', { skipRuleName: 'b' }))).toEqual(['a', 'b']);
  });
});

it('the selection is frozen', () => {
  const sel = selectRules({ domainRules: [enc('a')] }, 'write');
  expect(Object.isFrozen(sel)).toBe(true);
  expect(Object.isFrozen(sel.rules)).toBe(true);
});
