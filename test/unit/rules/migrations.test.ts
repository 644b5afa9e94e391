import { describe, expect, it } from 'vitest';
import type { Rule, RuleSet } from '../../../src/model/index.js';
import { migratesValues, migrationPath, type SubjectVersion } from '../../../src/rules/migrations.js';
import { RecryptError } from '../../../src/util/errors.js';

const jsonataRule = (name: string, mode: Rule['mode'], expr: string, over: Partial<Rule> = {}): Rule =>
  ({ name, kind: 'TRANSFORM', type: 'JSONATA', mode, expr, ...over });

const v = (version: number, migrationRules?: Rule[], extra: Partial<RuleSet> = {}): SubjectVersion =>
  ({ version, ...(migrationRules ? { ruleSet: { migrationRules, ...extra } } : {}) });

const names = (path: ReturnType<typeof migrationPath>) => path?.steps.map((s) => ({ from: s.from, to: s.to, rules: s.rules.map((r) => r.rule.name) }));

const UP2 = jsonataRule('up2', 'UPGRADE', "$merge([$sift($, function($v, $k) {$k != 'size'}), {'height': $.'size'}])");
const DOWN2 = jsonataRule('down2', 'DOWNGRADE', "$merge([$sift($, function($v, $k) {$k != 'height'}), {'size': $.'height'}])");
const UP3 = jsonataRule('up3', 'UPGRADE', "$merge([$sift($, function($v, $k) {$k != 'height'}), {'length': $.'height'}])");
const DOWN3 = jsonataRule('down3', 'DOWNGRADE', "$merge([$sift($, function($v, $k) {$k != 'length'}), {'height': $.'length'}])");
const VERSIONS = [v(1), v(2, [UP2, DOWN2]), v(3, [UP3, DOWN3])];

describe('migrationPath', () => {
  it('is null between a version and itself', () => {
    expect(migrationPath('s', 2, 2, VERSIONS)).toBeNull();
  });

  it('upgrades one step per newer version with UPGRADE rules, in version order', () => {
    const path = migrationPath('s', 1, 3, VERSIONS);
    expect(path?.mode).toBe('UPGRADE');
    expect(names(path)).toEqual([{ from: 1, to: 2, rules: ['up2'] }, { from: 2, to: 3, rules: ['up3'] }]);
    expect(path?.steps.map((s) => s.rulesOf)).toEqual([2, 3]);
  });

  it('downgrades highest version first, each with the higher version\'s rules', () => {
    const path = migrationPath('s', 3, 1, VERSIONS);
    expect(path?.mode).toBe('DOWNGRADE');
    expect(names(path)).toEqual([{ from: 3, to: 2, rules: ['down3'] }, { from: 2, to: 1, rules: ['down2'] }]);
  });

  it('skips versions without rules of the mode, and the writer\'s own version\'s rules', () => {
    const path = migrationPath('s', 2, 4, [v(2, [UP2]), v(3), v(4, [UP3])]);
    expect(names(path)).toEqual([{ from: 3, to: 4, rules: ['up3'] }]);
  });

  it('runs UPDOWN rules both ways: list order upgrading, reversed downgrading', () => {
    const a = jsonataRule('a', 'UPDOWN', '$');
    const b = jsonataRule('b', 'UPDOWN', '$');
    const versions = [v(1), v(2, [a, b])];
    expect(names(migrationPath('s', 1, 2, versions))).toEqual([{ from: 1, to: 2, rules: ['a', 'b'] }]);
    expect(names(migrationPath('s', 2, 1, versions))).toEqual([{ from: 2, to: 1, rules: ['b', 'a'] }]);
  });

  it('leaves out disabled rules and a version whose enableAt switches its rules off', () => {
    const off = jsonataRule('off', 'UPGRADE', '$', { disabled: true });
    const path = migrationPath('s', 1, 3, [v(1), v(2, [off, UP2]), v(3, [UP3], { enableAt: 'NEVER' })]);
    expect(names(path)).toEqual([{ from: 1, to: 2, rules: ['up2'] }, { from: 2, to: 3, rules: [] }]);
    expect(migratesValues(path)).toBe(true);
    expect(migratesValues(migrationPath('s', 2, 3, [v(2), v(3, [UP3], { enableAt: 'NEVER' })]))).toBe(false);
  });

  it('takes the first action of an UPDOWN pair upgrading, the second downgrading', () => {
    const r = jsonataRule('r', 'UPDOWN', '$', { onFailure: 'DLQ,NONE' });
    const versions = [v(1), v(2, [r])];
    expect(migrationPath('s', 1, 2, versions)?.steps[0]?.rules[0]?.onFailure).toBe('DLQ');
    expect(migrationPath('s', 2, 1, versions)?.steps[0]?.rules[0]?.onFailure).toBe('NONE');
  });

  it('refuses a missing intermediate version', () => {
    expect(() => migrationPath('orders-value', 1, 3, [v(1), v(3, [UP3])])).toThrow(/orders-value.*needs version 2/);
  });

  it('refuses an expression that does not compile, naming subject, version, rule and the parser message', () => {
    const bad = jsonataRule('broken', 'UPGRADE', '$merge([$, {');
    let caught: unknown;
    try {
      migrationPath('orders-value', 1, 2, [v(1), v(2, [bad])]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RecryptError);
    expect((caught as RecryptError).code).toBe('RULE_INVALID');
    expect((caught as Error).message).toMatch(/subject orders-value version 2 migration rule broken: JSONata does not compile: S0\d+ at \d+/);
  });

  it('refuses a migration rule of another type', () => {
    const cel = { name: 'c', type: 'CEL', mode: 'UPGRADE', expr: 'message' } as Rule;
    expect(() => migrationPath('s', 1, 2, [v(1), v(2, [cel])])).toThrow(/type CEL; recrypt runs JSONATA migration rules only/);
  });

  it('compiles an expression that evaluates asynchronously', async () => {
    const step = migrationPath('s', 1, 2, VERSIONS)?.steps[0];
    await expect(step?.rules[0]?.expression.evaluate({ name: 'n', size: 3 })).resolves.toEqual({ name: 'n', height: 3 });
  });
});
