/**
 * Which rules of a rule set run, in which order, for one direction (CSFLE-NOTES section 4).
 *
 * - write: domainRules in list order (then, after encoding, encodingRules in list order);
 *   read: encodingRules in REVERSE order before decoding, then domainRules in REVERSE order.
 * - mode: WRITEREAD runs both ways, WRITE / READ only in their direction; the migration modes
 *   (UPGRADE, DOWNGRADE, UPDOWN) never run as domain or encoding rules. An unknown mode or kind is
 *   RULE_INVALID (the registry rejects them, so a rule set carrying one did not come from a registry).
 * - `disabled: true` rules are skipped.
 * - `enableAt`: the JS and Go clients treat it as an environment selector, not a time: absent, empty,
 *   "ALL" or "CLIENT" leave the rules enabled; any other value disables EVERY rule of the set, in both
 *   directions. We do the same (so we neither encrypt what clients would not, nor leave ciphertext that
 *   they would decrypt) and report it, so callers can refuse a write that would leave plaintext.
 * - Same-tag overriding, as current Java does (FieldRuleExecutor): of several field-level TRANSFORM rules
 *   with the same kind, mode, type and the same (non-empty) SET of tags, only the FIRST in list order
 *   runs, in both directions; the later ones are reported as `overridden`. The comparison runs over the
 *   whole list, disabled and other-direction rules included, as in Java. (Older Java releases kept the
 *   LAST; the JS client compares the tag arrays by reference and so never skips: it runs them all. The
 *   engine therefore still runs overridden ENCRYPT rules on read, tolerantly: see engine/plan.ts.)
 * - A reader can skip the rule named in a record's `__rule.name` header (DLQ records).
 */
import type { Rule, RuleKind, RuleMode, RuleSet } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import type { RuleDirection } from './actions.js';

export type RulePhase = 'domain' | 'encoding';

export type SkipReason = 'disabled' | 'mode' | 'enableAt' | 'overridden' | 'ruleNameHeader';

export interface SelectedRule {
  readonly rule: Rule;
  /** Position of the rule in its list as registered (not in execution order). */
  readonly index: number;
}

export interface SkippedRule extends SelectedRule {
  readonly reason: SkipReason;
  /** For `overridden`: the index of the earlier rule that overrides this one. */
  readonly overriddenBy?: number;
}

export interface RuleSelection {
  readonly direction: RuleDirection;
  readonly phase: RulePhase;
  /** Rules to run, in execution order. */
  readonly rules: readonly SelectedRule[];
  /** Rules not run and why, in list order (for dry runs and plans). */
  readonly skipped: readonly SkippedRule[];
  /** True when `enableAt` disabled the whole set. */
  readonly disabledByEnableAt: boolean;
}

export interface SelectRulesOptions {
  /** Domain (default) or encoding rules. */
  readonly phase?: RulePhase;
  /** Read only: skip the rule with this name (the `__rule.name` header of a DLQ record). */
  readonly skipRuleName?: string;
  /**
   * Rule types whose executor is field-level (Java FieldRuleExecutor); only these take part in same-tag
   * overriding. Default: ENCRYPT and CEL_FIELD.
   */
  readonly fieldRuleTypes?: ReadonlySet<string>;
}

export const DEFAULT_FIELD_RULE_TYPES: ReadonlySet<string> = new Set(['ENCRYPT', 'CEL_FIELD']);

const MODES: ReadonlySet<string> = new Set<RuleMode>(['WRITE', 'READ', 'WRITEREAD', 'UPGRADE', 'DOWNGRADE', 'UPDOWN']);
const KINDS: ReadonlySet<string> = new Set<RuleKind>(['TRANSFORM', 'CONDITION']);

/** The rule's mode with the Confluent default (WRITEREAD). Throws RULE_INVALID for unknown modes. */
export function ruleMode(rule: Rule): RuleMode {
  const mode = rule.mode ?? 'WRITEREAD';
  if (!MODES.has(mode)) throw new RecryptError('RULE_INVALID', `rule ${rule.name}: unknown mode`);
  return mode;
}

/** The rule's kind with the Confluent default (TRANSFORM). Throws RULE_INVALID for unknown kinds. */
export function ruleKind(rule: Rule): RuleKind {
  const kind = rule.kind ?? 'TRANSFORM';
  if (!KINDS.has(kind)) throw new RecryptError('RULE_INVALID', `rule ${rule.name}: unknown kind`);
  return kind;
}

/** Whether `enableAt` leaves the rule set enabled (JS/Go client semantics; see the file comment). */
export function isRuleSetEnabled(ruleSet: RuleSet | undefined): boolean {
  const env: unknown = ruleSet?.enableAt;
  return env === undefined || env === null || env === '' || env === 'ALL' || env === 'CLIENT';
}

function runsIn(mode: RuleMode, direction: RuleDirection): boolean {
  if (mode === 'WRITEREAD') return true;
  return direction === 'write' ? mode === 'WRITE' : mode === 'READ';
}

function sameTagSet(a: readonly string[], b: readonly string[] | undefined): boolean {
  const sa = new Set(a);
  const sb = new Set(b ?? []);
  if (sa.size !== sb.size) return false;
  for (const t of sa) if (!sb.has(t)) return false;
  return true;
}

/**
 * Java's areTransformsWithSameTags(rule, other): `rule` has tags, is a TRANSFORM, and `other` has the
 * same kind, mode, type and tag set.
 */
export function isOverriddenBy(rule: Rule, other: Rule): boolean {
  const tags = rule.tags ?? [];
  return (
    tags.length > 0 &&
    ruleKind(rule) === 'TRANSFORM' &&
    ruleKind(other) === 'TRANSFORM' &&
    ruleMode(rule) === ruleMode(other) &&
    rule.type === other.type &&
    sameTagSet(tags, other.tags)
  );
}

/** The rules to run for one direction and phase, in execution order. Pure. Throws RULE_INVALID. */
export function selectRules(
  ruleSet: RuleSet | undefined,
  direction: RuleDirection,
  options: SelectRulesOptions = {},
): RuleSelection {
  const phase = options.phase ?? 'domain';
  const fieldTypes = options.fieldRuleTypes ?? DEFAULT_FIELD_RULE_TYPES;
  const list: readonly Rule[] = (phase === 'domain' ? ruleSet?.domainRules : ruleSet?.encodingRules) ?? [];
  const enabled = isRuleSetEnabled(ruleSet);
  const chosen: SelectedRule[] = [];
  const skipped: SkippedRule[] = [];

  for (let index = 0; index < list.length; index++) {
    const rule = list[index] as Rule;
    const mode = ruleMode(rule);
    ruleKind(rule);
    if (!enabled) {
      skipped.push({ rule, index, reason: 'enableAt' });
      continue;
    }
    if (rule.disabled === true) {
      skipped.push({ rule, index, reason: 'disabled' });
      continue;
    }
    if (!runsIn(mode, direction)) {
      skipped.push({ rule, index, reason: 'mode' });
      continue;
    }
    if (direction === 'read' && options.skipRuleName !== undefined && rule.name === options.skipRuleName) {
      skipped.push({ rule, index, reason: 'ruleNameHeader' });
      continue;
    }
    if (rule.type !== undefined && fieldTypes.has(rule.type)) {
      // The first rule in list order with a given (kind, mode, type, tag set) runs; later ones are
      // skipped, in both directions (Confluent's JS serde: write skips when an earlier rule matches,
      // read walks the reversed list and skips when a later-in-reversed, i.e. earlier, rule matches).
      let by = -1;
      for (let j = 0; j < index; j++) {
        if (isOverriddenBy(rule, list[j] as Rule)) {
          by = j;
          break;
        }
      }
      if (by >= 0) {
        skipped.push({ rule, index, reason: 'overridden', overriddenBy: by });
        continue;
      }
    }
    chosen.push({ rule, index });
  }
  if (direction === 'read') chosen.reverse();
  return Object.freeze({
    direction,
    phase,
    rules: Object.freeze(chosen),
    skipped: Object.freeze(skipped),
    disabledByEnableAt: !enabled && list.length > 0,
  });
}

/** The phases in execution order for a direction: write = domain then encoding; read = the reverse. */
export function phasesFor(direction: RuleDirection): readonly RulePhase[] {
  return direction === 'write' ? ['domain', 'encoding'] : ['encoding', 'domain'];
}
