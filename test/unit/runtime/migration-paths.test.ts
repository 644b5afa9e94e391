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

  it('reads soft-deleted versions as run does (deleted=true): one between with JSONata that does not compile is an error', async () => {
    const live = registry({ 1: null, 3: [rule('up3', 'UPGRADE', '$')] });
    const softDeleted = registry({ 2: [rule('broken', 'UPGRADE', '$merge([')] });
    const withDeleted = {
      getVersion: (subject: string, version: number, deleted?: boolean): Promise<RegisteredSchema> =>
        version === 2 && deleted === true ? softDeleted.getVersion(subject, version) : live.getVersion(subject, version),
    };
    const { problems } = await plannedMigrations(withDeleted, 's-value', 3, 'job');
    expect(problems.map((p) => p.severity)).toContain('error');
    expect(problems.find((p) => p.severity === 'error')?.message).toMatch(/subject s-value version 2 migration rule broken: JSONata does not compile/);
  });

  it('a version gone for good is a warning: only the records of the versions before it need it', async () => {
    const { problems } = await plannedMigrations(registry({ 1: null, 3: [rule('up3', 'UPGRADE', '$')] }), 's-value', 3, 'job');
    expect(problems.map((p) => p.severity)).toEqual(['warning']);
  });
});
