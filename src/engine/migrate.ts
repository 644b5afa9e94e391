/**
 * Runs a plan's JSONata migration path (rules/migrations.ts) over a record's decoded value, between the
 * writer's READ rules and the target's WRITE rules (the kernel hands the value back as a 'migrate'
 * outcome; jsonata 2.x evaluates asynchronously, so this runs in the driver, never in the kernel).
 *
 * As in Confluent's clients, each rule's result replaces the value, and a rule that fails takes its
 * onFailure action for the direction (UPGRADE the first of a pair, DOWNGRADE the second):
 * - NONE skips the rule (the value stays what the previous rule left);
 * - ERROR and DLQ end the record (DLQ only where the driver has a DLQ for it; else ERROR).
 * A rule fails when JSONata throws or yields nothing (undefined, null: Go's executor fails, JS's ends up
 * a no-op; we follow Go). After the last rule the value must encode under the target schema; when it
 * does not, the last rule that ran fails, and NONE is ERROR there: never a partial record.
 *
 * recrypt migrates plaintext (the clients migrate ciphertext): a rule that copies a tagged value into a
 * field the target leaves unencrypted would write it out in the clear. So, on this path only, the output
 * of the WRITE rules is searched for the record's tagged plaintext values (the DLQ guard's search); a
 * hit is the path's last rule failing, NONE there being ERROR.
 *
 * Error messages carry the rule, the step and JSONata's error code only: JSONata's own message can quote
 * record values (`T2001 The left side of the "+" operator must evaluate to a number`, with the token).
 */
import { findPlaintext, type Plaintext } from '../dlq/index.js';
import type { Codec } from '../formats/index.js';
import type { MigrationPath, MigrationRule, RuleAction, RuleDirection } from '../rules/index.js';
import { RecryptError } from '../util/errors.js';
import type { ActionPolicy, Migrate, Outcome } from './kernel/outcome.js';
import type { Kernel } from './kernel/transform.js';
import { isKeyedStep, type Step, type UnsupportedStep } from './plan.js';

export type MigrationOutcome =
  | { readonly kind: 'migrated'; readonly value: unknown }
  | { readonly kind: 'migration-failure'; readonly step: UnsupportedStep; readonly direction: RuleDirection; readonly action: RuleAction; readonly error: RecryptError };

/**
 * Each migration rule as a keyless step (no DEK, no CEL program), so that the driver's rule-failure
 * handling (metrics, DLQ route and its `dlq.topic` param, the rule's name in DLQ headers) applies as is.
 */
const STEPS = new WeakMap<MigrationRule, UnsupportedStep>();

export function migrationStepOf(rule: MigrationRule, subject: string): UnsupportedStep {
  let step = STEPS.get(rule);
  if (step === undefined) {
    step = { kind: 'unsupported', rule: rule.rule, onFailure: rule.onFailure, subject };
    STEPS.set(rule, step);
  }
  return step;
}

/** JSONata's error code (`T2001`, `D3030`...), a fixed token that never holds a value; else none. */
function jsonataCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z]\d{4}$/.test(code) ? ` (${code})` : '';
}

/**
 * How long one rule may evaluate on one record. A migration is a reshaping, well under a millisecond;
 * the limit only stops a runaway expression. Wall time, and JSONata evaluates asynchronously (other work
 * of the process runs in between), so it is generous: a loaded process must not fail good records.
 */
export const MIGRATION_TIME_LIMIT_MS = 10_000;

const DEADLINE = '__recrypt_migration_deadline';
/** The entry hook jsonata calls at every node it evaluates (jsonata.js evaluate()). */
const ENTRY_HOOK = Symbol.for('jsonata.__evaluate_entry');
class TimeLimit extends Error {}
const HOOKED = new WeakSet<object>();

/**
 * Evaluates `rule` on `value`, stopping it past `limitMs` (a rule that loops over a huge range would
 * otherwise hold the partition, and the event loop, for as long as it runs). A hook on the compiled
 * expression (bound once, shared by every evaluation) checks at each node the deadline each evaluation
 * carries in its own bindings, so concurrent evaluations of one expression keep their own deadlines.
 */
async function evaluateTimed(rule: MigrationRule, value: unknown, limitMs: number): Promise<unknown> {
  const { expression } = rule;
  if (!HOOKED.has(expression)) {
    expression.assign(ENTRY_HOOK as unknown as string, (_expr: unknown, _input: unknown, env: { lookup(name: string): unknown }) => {
      const deadline = env.lookup(DEADLINE);
      if (typeof deadline === 'number' && Date.now() > deadline) throw new TimeLimit();
    });
    HOOKED.add(expression);
  }
  return expression.evaluate(value, { [DEADLINE]: Date.now() + limitMs });
}

export interface MigrationContext {
  /** Per rule and record (default MIGRATION_TIME_LIMIT_MS). */
  readonly timeLimitMs?: number;
  readonly subject: string;
  /** The target's codec: the migrated value must encode under it. */
  readonly target: Codec;
  readonly policy: ActionPolicy;
  /** Told of each rule failure NONE skipped (metrics and the rule-failure log count them like any other). */
  readonly onNone?: (event: { rule: string; direction: RuleDirection; action: RuleAction; code: string }) => void;
}

type MigrationFailure = Extract<MigrationOutcome, { kind: 'migration-failure' }>;

function failure(rule: MigrationRule, path: MigrationPath, ctx: MigrationContext, message: string, noneIsError: boolean): MigrationFailure {
  const step = migrationStepOf(rule, ctx.subject);
  let action = rule.onFailure;
  if (action === 'NONE' && noneIsError) action = 'ERROR';
  if (action === 'DLQ' && !ctx.policy.dlqAccepts(step)) action = 'ERROR';
  const direction: RuleDirection = path.mode === 'UPGRADE' ? 'write' : 'read';
  return { kind: 'migration-failure', step, direction, action, error: new RecryptError('RULE_EXPRESSION_FAILED', message) };
}

/** Migrates `value` along `path`; never throws for a record's failure (transient errors cannot occur: no I/O). */
export async function runMigration(path: MigrationPath, value: unknown, ctx: MigrationContext): Promise<MigrationOutcome> {
  let last: MigrationRule | undefined;
  for (const step of path.steps) {
    const where = `${path.mode} ${ctx.subject} v${step.from} -> v${step.to}`;
    for (const rule of step.rules) {
      last = rule;
      let result: unknown;
      let failed: string | undefined;
      try {
        result = await evaluateTimed(rule, value, ctx.timeLimitMs ?? MIGRATION_TIME_LIMIT_MS);
        if (result === undefined || result === null) failed = `migration rule ${rule.rule.name} (${where}): the JSONata expression yielded no value`;
      } catch (err) {
        failed = err instanceof TimeLimit
          ? `migration rule ${rule.rule.name} (${where}): the JSONata expression ran past its time limit (${ctx.timeLimitMs ?? MIGRATION_TIME_LIMIT_MS} ms)`
          : `migration rule ${rule.rule.name} (${where}): the JSONata expression failed on the record${jsonataCode(err)}`;
      }
      if (failed === undefined) {
        value = result;
        continue;
      }
      const outcome = failure(rule, path, ctx, failed, false);
      if (outcome.kind === 'migration-failure' && outcome.action === 'NONE') {
        ctx.onNone?.({ rule: rule.rule.name, direction: outcome.direction, action: 'NONE', code: outcome.error.code });
        continue;
      }
      return outcome;
    }
  }
  try {
    ctx.target.encode(value);
  } catch {
    if (last === undefined) throw new RecryptError('INTERNAL', `a migration path of ${ctx.subject} with no rule reached the driver`);
    return failure(last, path, ctx, `migration rule ${last.rule.name} (${path.mode} ${ctx.subject} v${path.from} -> v${path.to}): the migrated record does not encode under the target schema`, true);
  }
  return { kind: 'migrated', value };
}

/** What the driver lends the migration branch of its slow path. */
export interface MigrationDriver {
  readonly kernel: Kernel;
  readonly policy: ActionPolicy;
  readonly onNone?: MigrationContext['onNone'];
  /** The record's tagged values as plaintext (dlq-route.ts plaintextsOfPart). */
  readonly plaintexts: () => Promise<readonly Plaintext[]>;
}

/**
 * The driver's 'migrate' outcome: migrates the value, runs the WRITE rules over it (Kernel.resume) and
 * returns what comes of it: a rule failure, a miss to fetch, or bytes that carry none of the record's
 * tagged plaintext values (see the file comment).
 */
export async function migrateRecord(outcome: Migrate, skipped: ReadonlySet<Step>, driver: MigrationDriver): Promise<Outcome> {
  const { plan, value, dropHeader } = outcome;
  const path = plan.migration!;
  const ctx: MigrationContext = { subject: plan.read.subject, target: plan.write.codec, policy: driver.policy, ...(driver.onNone ? { onNone: driver.onNone } : {}) };
  const migrated = await runMigration(path, value, ctx);
  if (migrated.kind !== 'migrated') return { ...migrated, kind: 'rule-failure', keyFailure: false };
  // The values the target will encrypt, read before the WRITE rules run over the value.
  const targetTagged = taggedValues(plan.write.domain, migrated.value);
  const resumed = driver.kernel.resume(plan, migrated.value, dropHeader, skipped);
  const keyed = [...plan.write.domain, ...plan.write.encoding].filter(isKeyedStep);
  // A target that encrypts nothing (decrypt jobs), or a record whose encryption NONE skipped under the
  // job's opt-in, writes tagged values in the clear by design.
  if (resumed.kind !== 'ok' || resumed.bytes === null || keyed.length === 0 || keyed.some((step) => skipped.has(step))) return resumed;
  const part = { topic: '', partition: 0, key: null, value: resumed.bytes, headers: [], timestamp: 0 };
  if (findPlaintext(part, [...await driver.plaintexts(), ...targetTagged]) === undefined) return resumed;
  const last = path.steps.flatMap((s) => s.rules).at(-1)!;
  const leak = failure(last, path, ctx, `migration rule ${last.rule.name} (${path.mode} ${ctx.subject} v${path.from} -> v${path.to}): the migrated record carries a tagged value in the clear`, true);
  return { ...leak, kind: 'rule-failure', keyFailure: false };
}

/** The string and bytes values the field steps select in `value` (a value of another shape: none). */
function taggedValues(steps: readonly Step[], value: unknown): Plaintext[] {
  const out: Plaintext[] = [];
  const collect = (leaf: unknown): unknown => {
    if ((typeof leaf === 'string' || leaf instanceof Uint8Array) && leaf.length > 0) out.push(leaf);
    return leaf;
  };
  try {
    for (const step of steps) if (step.kind === 'field' && step.walker !== null) step.walker(value, collect);
  } catch {
    // Not the target's shape: the WRITE rules fail on it too, and the source's values remain.
  }
  return out;
}
