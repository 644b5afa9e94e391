import { describe, expect, it } from 'vitest';
import type { Codec } from '../../../src/formats/index.js';
import type { Rule } from '../../../src/model/index.js';
import { migrationPath } from '../../../src/rules/index.js';
import { runMigration, type MigrationContext } from '../../../src/engine/migrate.js';

const rule = (name: string, expr: string, onFailure = 'ERROR'): Rule => ({ name, type: 'JSONATA', kind: 'TRANSFORM', mode: 'UPGRADE', expr, onFailure });

/** A target codec that encodes objects with a numeric `height` only. */
const target = { encode: (v: unknown) => {
  if (typeof (v as { height?: unknown }).height !== 'number') throw new Error('no height');
  return Buffer.from(JSON.stringify(v));
} } as unknown as Codec;

const ctx = (dlq = true): MigrationContext => ({ subject: 's-value', target, policy: { allowPlaintextOnEncryptFailure: false, dlqAccepts: () => dlq } });
const pathOf = (...rules: Rule[]) => migrationPath('s-value', 1, 2, [{ version: 1 }, { version: 2, ruleSet: { migrationRules: rules } }])!;

describe('runMigration', () => {
  it('feeds each rule the previous rule\'s result', async () => {
    const out = await runMigration(pathOf(rule('a', "$merge([$, {'h': $.size}])"), rule('b', "{'height': $.h * 2}")), { size: 3 }, ctx());
    expect(out).toEqual({ kind: 'migrated', value: { height: 6 } });
  });

  it('a throwing rule: its action, a fixed message with JSONata\'s code, no record value', async () => {
    const out = await runMigration(pathOf(rule('boom', "$error('CANARY-991 ' & $.name)", 'DLQ')), { name: 'CANARY-991' }, ctx());
    expect(out.kind).toBe('migration-failure');
    if (out.kind !== 'migration-failure') return;
    expect(out.action).toBe('DLQ');
    expect(out.direction).toBe('write');
    expect(out.step.rule.name).toBe('boom');
    expect(out.error.code).toBe('RULE_EXPRESSION_FAILED');
    expect(out.error.message).toMatch(/migration rule boom \(UPGRADE s-value v1 -> v2\): the JSONata expression failed on the record \(D3137\)/);
    expect(out.error.message).not.toMatch(/CANARY/);
  });

  it('a rule that runs past its time limit fails with RULE_EXPRESSION_FAILED and its action; the next evaluation has its own deadline', async () => {
    const slow = rule('slow', "{'height': $reduce([1..300000], function($a, $b) { $a + $b })}", 'DLQ');
    const path = pathOf(slow);
    const out = await runMigration(path, {}, { ...ctx(), timeLimitMs: 5 });
    expect(out).toMatchObject({ kind: 'migration-failure', action: 'DLQ', error: { code: 'RULE_EXPRESSION_FAILED' } });
    expect(out.kind === 'migration-failure' && out.error.message).toMatch(/migration rule slow \(UPGRADE s-value v1 -> v2\): the JSONata expression ran past its time limit \(5 ms\)/);
    expect(await runMigration(path, {}, { ...ctx(), timeLimitMs: 120_000 })).toEqual({ kind: 'migrated', value: { height: 45000150000 } });
  });

  it('DLQ without a DLQ to take it is ERROR', async () => {
    const out = await runMigration(pathOf(rule('boom', "$error('x')", 'DLQ')), {}, ctx(false));
    expect(out.kind === 'migration-failure' && out.action).toBe('ERROR');
  });

  it('an undefined result fails the rule (Go), NONE skips it (reported) and the next rule runs on the unchanged value', async () => {
    const events: unknown[] = [];
    const out = await runMigration(pathOf(rule('nothing', '$.missing', 'NONE'), rule('b', "{'height': $.size}")), { size: 4 }, { ...ctx(), onNone: (e) => events.push(e) });
    expect(out).toEqual({ kind: 'migrated', value: { height: 4 } });
    expect(events).toEqual([{ rule: 'nothing', direction: 'write', action: 'NONE', code: 'RULE_EXPRESSION_FAILED' }]);
  });

  it('a result that does not encode fails the last rule that ran, and NONE is ERROR there', async () => {
    const out = await runMigration(pathOf(rule('partial', "{'name': $.name}", 'NONE')), { name: 'n' }, ctx());
    expect(out.kind === 'migration-failure' && [out.step.rule.name, out.action, out.error.message.includes('does not encode')]).toEqual(['partial', 'ERROR', true]);
  });
});
