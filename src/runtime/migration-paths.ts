/**
 * The JSONata migration paths of a subject, checked before any record moves: `recrypt plan`'s migration
 * view, and `run`'s refusal for target.upgrade jobs (prepare.ts). When a route writes with another
 * version of the source's own subject, records of every other version migrate through its JSONata rules
 * (engine/migration-plans.ts). Lists, per such version, each version step and its rules; a path `run`
 * would refuse (a JSONata expression that does not compile, a migration rule of another type) is an
 * error problem with the subject, version, rule and the parser's message.
 */
import type { Problem } from '../jobs/index.js';
import type { RegisteredSchema } from '../registry/types.js';
import { migratesValues, migrationPath, type SubjectVersion } from '../rules/index.js';
import { isRecryptError, isTransient } from '../util/errors.js';

export interface PlannedMigration {
  readonly mode: 'UPGRADE' | 'DOWNGRADE';
  readonly from: number;
  readonly to: number;
  readonly steps: readonly { readonly from: number; readonly to: number; readonly rules: readonly { readonly rule: string; readonly action: string }[] }[];
}

/** The registry client's version read; `deleted`: soft-deleted versions too (registry/'s client has it). */
interface Registry {
  getVersion(subject: string, version: number, deleted?: boolean): Promise<RegisteredSchema>;
}

/**
 * The versions are read 1..target as `run` reads them (engine/migration-plans.ts): soft-deleted ones
 * included (deleted=true, as the clients), so a soft-deleted version between whose JSONata does not
 * compile is refused here, not at the first record. A gap (a version gone for good) is a warning: only
 * the records of the versions before it need it, and there may be none.
 */
export async function plannedMigrations(registry: Registry, subject: string, targetVersion: number, job: string): Promise<{ migrations: PlannedMigration[]; problems: Problem[] }> {
  const versions: SubjectVersion[] = [];
  for (let version = 1; version <= targetVersion; version++) {
    const schema = await registry.getVersion(subject, version, true).catch((err: unknown) => {
      if (isTransient(err)) throw err;
      return undefined;
    });
    if (schema !== undefined) versions.push({ version, ruleSet: schema.ruleSet });
  }
  const migrations: PlannedMigration[] = [];
  const problems: Problem[] = [];
  for (const { version: from } of versions) {
    if (from === targetVersion) continue;
    try {
      const path = migrationPath(subject, from, targetVersion, versions);
      if (!migratesValues(path)) continue;
      migrations.push({
        mode: path.mode, from, to: targetVersion,
        steps: path.steps.map((s) => ({ from: s.from, to: s.to, rules: s.rules.map((r) => ({ rule: r.rule.name, action: r.onFailure })) })),
      });
    } catch (err) {
      if (!isRecryptError(err)) throw err;
      const gap = /needs version \d+, which the registry does not have/.test(err.message);
      problems.push({ code: 'JOB_UNSAFE', severity: gap ? 'warning' : 'error', path: 'spec.target', job, message: err.message });
    }
  }
  return { migrations, problems };
}
