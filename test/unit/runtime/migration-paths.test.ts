import { describe, expect, it } from 'vitest';
import type { Rule, RegisteredSchema } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { plannedMigrations } from '../../../src/runtime/migration-paths.js';

const rule = (name: string, mode: Rule['mode'], expr: string): Rule => ({ name, type: 'JSONATA', kind: 'TRANSFORM', mode, expr });

function registry(versions: Record<number, Rule[] | null>) {
  return {
    getVersion: (subject: string, version: number): Promise<RegisteredSchema> => {
      const rules = versions[version];
      if (rules === undefined) return Promise.reject(new RecryptError('REGISTRY_NOT_FOUND', `${subject} v${version}`));
      return Promise.resolve({ id: version, schema: '{}', version, ...(rules ? { ruleSet: { migrationRules: rules } } : {}) });
    },
  };
}

describe('plannedMigrations (recrypt plan, and run with target.upgrade)', () => {
  it('lists each older version\'s UPGRADE steps to the target version, with their rules and actions', async () => {
    const { migrations, problems } = await plannedMigrations(registry({ 1: null, 2: [rule('up2', 'UPGRADE', '$')], 3: [rule('up3', 'UPDOWN', '$')] }), 's-value', 3, 'job');
    expect(problems).toEqual([]);
    expect(migrations).toEqual([
      { mode: 'UPGRADE', from: 1, to: 3, steps: [{ from: 1, to: 2, rules: [{ rule: 'up2', action: 'ERROR' }] }, { from: 2, to: 3, rules: [{ rule: 'up3', action: 'ERROR' }] }] },
      { mode: 'UPGRADE', from: 2, to: 3, steps: [{ from: 2, to: 3, rules: [{ rule: 'up3', action: 'ERROR' }] }] },
    ]);
  });

  it('reports an expression that does not compile as an error naming subject, version and rule', async () => {
    const { migrations, problems } = await plannedMigrations(registry({ 1: null, 2: [rule('broken', 'UPGRADE', '$merge([')] }), 's-value', 2, 'job');
    expect(migrations).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', code: 'JOB_UNSAFE' });
    expect(problems[0]?.message).toMatch(/subject s-value version 2 migration rule broken: JSONata does not compile/);
  });

  it('a version the registry API does not show (soft-deleted) is a warning: run reads it with deleted=true', async () => {
    const { problems } = await plannedMigrations(registry({ 1: null, 3: [rule('up3', 'UPGRADE', '$')] }), 's-value', 3, 'job');
    expect(problems.map((p) => p.severity)).toEqual(['warning']);
  });
});
