/**
 * onSuccess / onFailure action strings (CSFLE-NOTES section 4).
 *
 * A value is one action, or for WRITEREAD rules a pair "A,B": A applies on write, B on read. A comma in
 * the action of a WRITE or READ rule is not a pair: the Confluent clients would look up an action named
 * "A,B" and fail, so it is RULE_INVALID here. Names are matched case-insensitively and trimmed, as the
 * Java client does (`toUpperCase(Locale.ROOT)`); an empty value means the default (failure ERROR,
 * success NONE). Only ERROR, NONE and DLQ exist; anything else is RULE_INVALID.
 */
import type { Rule } from '../model/index.js';
import { RecryptError } from '../util/errors.js';

export type RuleAction = 'ERROR' | 'NONE' | 'DLQ';
export type RuleDirection = 'write' | 'read';
export type RuleOutcome = 'failure' | 'success';

export interface ActionPair {
  readonly write: RuleAction;
  readonly read: RuleAction;
}

const ACTIONS: ReadonlySet<string> = new Set<RuleAction>(['ERROR', 'NONE', 'DLQ']);

const DEFAULTS: Readonly<Record<RuleOutcome, RuleAction>> = { failure: 'ERROR', success: 'NONE' };

function parseOne(raw: string, rule: Rule, what: string): RuleAction {
  const name = raw.trim().toUpperCase();
  if (!ACTIONS.has(name)) {
    throw new RecryptError('RULE_INVALID', `rule ${rule.name}: ${what} action is not one of ERROR, NONE, DLQ`);
  }
  return name as RuleAction;
}

/**
 * Parses one of a rule's action strings into its write and read actions. `spec` undefined or blank
 * gives the default for the outcome. Throws RecryptError RULE_INVALID.
 */
export function parseActions(rule: Rule, outcome: RuleOutcome): ActionPair {
  const spec = outcome === 'failure' ? rule.onFailure : rule.onSuccess;
  const what = outcome === 'failure' ? 'onFailure' : 'onSuccess';
  if (spec === undefined || spec === null || spec.trim() === '') {
    const d = DEFAULTS[outcome];
    return Object.freeze({ write: d, read: d });
  }
  if (!spec.includes(',')) {
    const a = parseOne(spec, rule, what);
    return Object.freeze({ write: a, read: a });
  }
  const mode = rule.mode ?? 'WRITEREAD';
  // UPDOWN (migration) pairs parse the same way: the first applies to UPGRADE, the second to DOWNGRADE.
  if (mode !== 'WRITEREAD' && mode !== 'UPDOWN') {
    throw new RecryptError('RULE_INVALID', `rule ${rule.name}: ${what} is a pair but the rule mode is ${mode}, not WRITEREAD`);
  }
  const parts = spec.split(',');
  if (parts.length !== 2 || parts.some((p) => p.trim() === '')) {
    throw new RecryptError('RULE_INVALID', `rule ${rule.name}: ${what} must be one action or a pair "WRITE_ACTION,READ_ACTION"`);
  }
  return Object.freeze({ write: parseOne(parts[0] as string, rule, what), read: parseOne(parts[1] as string, rule, what) });
}

/** The action to take when `rule` ends with `outcome` in `direction`. Throws RecryptError RULE_INVALID. */
export function actionFor(rule: Rule, direction: RuleDirection, outcome: RuleOutcome): RuleAction {
  return parseActions(rule, outcome)[direction];
}

/** Validates both action strings of a rule up front (plan compile time). Throws RecryptError RULE_INVALID. */
export function validateActions(rule: Rule): void {
  parseActions(rule, 'failure');
  parseActions(rule, 'success');
}
