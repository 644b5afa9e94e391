/**
 * JSONata migration rules (UPGRADE / DOWNGRADE) between two versions of one subject, as Confluent's
 * clients find and order them (JS serde.ts getMigrations / getSchemasBetween / executeMigrations, Go
 * serde.go GetMigrations):
 * - the writer's version below the target's: UPGRADE. One step per version v in (writer, target] whose
 *   migrationRules hold a rule of mode UPGRADE or UPDOWN; the step runs v's migrationRules in list order.
 * - the writer's version above the target's: DOWNGRADE. One step per version v in (target, writer] whose
 *   migrationRules hold a DOWNGRADE or UPDOWN rule, highest version first; each runs v's migrationRules
 *   in REVERSE list order (the clients reverse the rules of READ and DOWNGRADE phases).
 * - the same version: no migration.
 * Every version in between must exist (the clients fetch each with deleted=true and fail the record when
 * one is missing); here a missing one refuses the plan. Rule filtering is the clients' executeRules one:
 * the version's `enableAt` switches its rules off, `disabled` rules are skipped, the mode must match.
 *
 * Expressions compile once, here, at plan time; a compile error is RULE_INVALID naming the subject,
 * version, rule and the parser's own message (which quotes the expression, never a record value).
 * Pure: no I/O, evaluation lives in engine/migrate.ts (jsonata 2.x evaluates asynchronously).
 */
import jsonata from 'jsonata';
import type { Rule, RuleSet } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { actionFor, type RuleAction } from './actions.js';
import { isRuleSetEnabled, ruleMode } from './rule-selection.js';

export type MigrationMode = 'UPGRADE' | 'DOWNGRADE';

/** One registered version of the subject, as far as migrations care. */
export interface SubjectVersion {
  readonly version: number;
  readonly ruleSet?: RuleSet | undefined;
}

export interface MigrationRule {
  readonly rule: Rule;
  /** The rule's onFailure for this direction (UPGRADE takes the first of a pair, DOWNGRADE the second). */
  readonly onFailure: RuleAction;
  readonly expression: jsonata.Expression;
}

/** Moving a value from version `from` to version `to` (adjacent in the path; `to` < `from` on DOWNGRADE). */
export interface MigrationStep {
  readonly from: number;
  readonly to: number;
  /** The version whose migrationRules the step runs (the higher of the two). */
  readonly rulesOf: number;
  readonly rules: readonly MigrationRule[];
}

export interface MigrationPath {
  readonly mode: MigrationMode;
  readonly from: number;
  readonly to: number;
  readonly steps: readonly MigrationStep[];
}

function matchesMode(rule: Rule, mode: MigrationMode): boolean {
  const m = ruleMode(rule);
  return m === mode || m === 'UPDOWN';
}

/** The clients' hasRules(ruleSet, MIGRATION, mode): any rule of the mode, disabled or not. */
function hasMigrationRules(ruleSet: RuleSet | undefined, mode: MigrationMode): boolean {
  return (ruleSet?.migrationRules ?? []).some((r) => matchesMode(r, mode));
}

/** A JSONata parser error: { code, position, token, message }; its message quotes only the expression. */
function parserMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; position?: unknown; message?: unknown };
    const parts = [typeof e.code === 'string' ? e.code : undefined, typeof e.position === 'number' ? `at ${e.position}` : undefined,
      typeof e.message === 'string' ? e.message : undefined].filter((p) => p !== undefined);
    if (parts.length > 0) return parts.join(' ');
  }
  return 'the expression does not compile';
}

/** Compiles one migration rule. Throws RULE_INVALID naming subject, version and rule. */
export function compileMigrationRule(rule: Rule, mode: MigrationMode, subject: string, version: number): MigrationRule {
  const where = `subject ${subject} version ${version} migration rule ${rule.name}`;
  if (rule.type !== 'JSONATA') {
    throw new RecryptError('RULE_INVALID', `${where} has type ${rule.type ?? '(none)'}; recrypt runs JSONATA migration rules only`);
  }
  if ((rule.kind ?? 'TRANSFORM') !== 'TRANSFORM') {
    throw new RecryptError('RULE_INVALID', `${where} has kind ${String(rule.kind)}; a JSONATA migration rule is a TRANSFORM`);
  }
  if (rule.expr === undefined || rule.expr.trim() === '') throw new RecryptError('RULE_INVALID', `${where} has no expression`);
  let expression: jsonata.Expression;
  try {
    expression = jsonata(rule.expr);
  } catch (err) {
    throw new RecryptError('RULE_INVALID', `${where}: JSONata does not compile: ${parserMessage(err)}`);
  }
  let onFailure: RuleAction;
  try {
    onFailure = actionFor(rule, mode === 'UPGRADE' ? 'write' : 'read', 'failure');
  } catch (err) {
    throw new RecryptError('RULE_INVALID', `${where}: ${(err as Error).message}`);
  }
  return { rule, onFailure, expression };
}

/** The rules one version runs in `mode`, in execution order, compiled. */
function stepRules(v: SubjectVersion, mode: MigrationMode, subject: string): MigrationRule[] {
  if (!isRuleSetEnabled(v.ruleSet)) return [];
  const rules = (v.ruleSet?.migrationRules ?? []).filter((r) => r.disabled !== true && matchesMode(r, mode));
  if (mode === 'DOWNGRADE') rules.reverse();
  return rules.map((r) => compileMigrationRule(r, mode, subject, v.version));
}

/**
 * The migration path from the writer's version to the target's, or null when they are the same version.
 * `versions`: the subject's versions (deleted ones included), at least every one in the closed range.
 * Throws RULE_INVALID for a missing version or a rule that does not compile.
 */
export function migrationPath(subject: string, writerVersion: number, targetVersion: number, versions: readonly SubjectVersion[]): MigrationPath | null {
  if (writerVersion === targetVersion) return null;
  const mode: MigrationMode = writerVersion < targetVersion ? 'UPGRADE' : 'DOWNGRADE';
  const low = Math.min(writerVersion, targetVersion);
  const high = Math.max(writerVersion, targetVersion);
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  const steps: MigrationStep[] = [];
  for (let version = low + 1; version <= high; version++) {
    const v = byVersion.get(version);
    if (v === undefined) {
      throw new RecryptError('RULE_INVALID', `subject ${subject}: the migration from version ${writerVersion} to ${targetVersion} needs version ${version}, which the registry does not have`);
    }
    if (!hasMigrationRules(v.ruleSet, mode)) continue;
    const [from, to] = mode === 'UPGRADE' ? [version - 1, version] : [version, version - 1];
    steps.push({ from, to, rulesOf: version, rules: stepRules(v, mode, subject) });
  }
  if (mode === 'DOWNGRADE') steps.reverse();
  return { mode, from: writerVersion, to: targetVersion, steps };
}

/** Whether running the path changes anything (some step has a rule to run). */
export function migratesValues(path: MigrationPath | null): path is MigrationPath {
  return path !== null && path.steps.some((s) => s.rules.length > 0);
}
