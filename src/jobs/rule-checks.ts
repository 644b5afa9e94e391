/**
 * Safety checks of a rule set against a job, shared by validation (the job's own spec.rules) and the
 * planner (the target schema's ruleSet fetched at run time):
 * - write-side onFailure NONE on an ENCRYPT rule lets a field out UNENCRYPTED: refused (JOB_UNSAFE)
 *   unless spec.allowPlaintextOnEncryptFailure is true;
 * - mode encrypt / reencrypt need an ENCRYPT (or ENCRYPT_PAYLOAD) rule that runs on write (JOB_UNSAFE);
 * - mode decrypt must have none (JOB_INVALID);
 * - action strings must parse (rules/ owns their semantics); a DLQ action needs a DLQ topic;
 * - CEL and CEL_FIELD expressions must compile (the parser's message), and onSuccess is never DLQ.
 * Findings carry paths relative to the rule set; callers add the prefix and the position.
 */
import type { Rule, RuleSet } from '../registry/types.js';
import { parseActions, type ActionPair } from '../rules/actions.js';
import { celCompileError } from '../rules/index.js';
import { isRuleSetEnabled } from '../rules/rule-selection.js';
import type { JobMode } from './job-types.js';
import type { PathSegment, Problem } from './problem.js';

export const ENCRYPTING_RULE_TYPES: ReadonlySet<string> = new Set(['ENCRYPT', 'ENCRYPT_PAYLOAD']);

export interface RuleFinding {
  readonly path: PathSegment[];
  /** Point at the key of `path` rather than its value (for fields that are absent). */
  readonly anchor?: 'value' | 'owner';
  readonly code: Problem['code'];
  readonly severity?: Problem['severity'];
  readonly message: string;
  readonly expected?: string;
}

export interface RuleSetLike {
  readonly domainRules?: readonly Rule[];
  readonly encodingRules?: readonly Rule[];
  readonly migrationRules?: readonly Rule[];
  readonly enableAt?: unknown;
}

export interface RuleCheckContext {
  readonly mode: JobMode;
  readonly allowPlaintextOnEncryptFailure: boolean;
  /** The job has a dlq section (a DLQ action has somewhere to go). */
  readonly hasDlq: boolean;
  /** Where the rule set comes from, for messages: "spec.rules" or "the target schema". */
  readonly origin: string;
}

interface Located {
  readonly rule: Rule;
  readonly path: PathSegment[];
}

function listed(ruleSet: RuleSetLike): Located[] {
  const out: Located[] = [];
  for (const list of ['domainRules', 'encodingRules'] as const) {
    (ruleSet[list] ?? []).forEach((rule, i) => out.push({ rule, path: [list, i] }));
  }
  return out;
}

/** An enabled ENCRYPT / ENCRYPT_PAYLOAD transform that runs on write. */
export function isWriteEncryptRule(rule: Rule): boolean {
  const mode = rule.mode ?? 'WRITEREAD';
  return (
    rule.type !== undefined &&
    ENCRYPTING_RULE_TYPES.has(rule.type) &&
    (rule.kind ?? 'TRANSFORM') === 'TRANSFORM' &&
    rule.disabled !== true &&
    (mode === 'WRITE' || mode === 'WRITEREAD')
  );
}

/** Whether the rule set encrypts anything on write (enableAt semantics of rules/ included). */
export function encryptsOnWrite(ruleSet: RuleSetLike | undefined): boolean {
  if (ruleSet === undefined || !isRuleSetEnabled(ruleSet as RuleSet)) return false;
  return listed(ruleSet).some((l) => isWriteEncryptRule(l.rule));
}

function actionsOf(rule: Rule, outcome: 'failure' | 'success'): ActionPair | Error {
  try {
    return parseActions(rule, outcome);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export function checkRuleSet(ruleSet: RuleSetLike, ctx: RuleCheckContext): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const rules = listed(ruleSet);
  const enabled = isRuleSetEnabled(ruleSet as RuleSet);

  for (const { rule, path } of [...rules, ...(ruleSet.migrationRules ?? []).map((rule, i) => ({ rule, path: ['migrationRules', i] }))]) {
    for (const outcome of ['failure', 'success'] as const) {
      const field = outcome === 'failure' ? 'onFailure' : 'onSuccess';
      const actions = actionsOf(rule, outcome);
      if (actions instanceof Error) {
        findings.push({
          path: [...path, field],
          code: 'JOB_INVALID',
          message: `${field} of rule ${rule.name} is not valid for mode ${rule.mode ?? 'WRITEREAD'}`,
          expected: 'ERROR, NONE or DLQ; a pair "write,read" only for WRITEREAD rules',
        });
        continue;
      }
      const dlqTopic = rule.params?.['dlq.topic'];
      if ((actions.write === 'DLQ' || actions.read === 'DLQ') && !ctx.hasDlq && (dlqTopic === undefined || dlqTopic === '')) {
        findings.push({
          path: [...path, field],
          code: 'JOB_INVALID',
          message: `rule ${rule.name} sends records to a DLQ but the job has no DLQ topic`,
          expected: 'a spec.dlq section, or the rule param dlq.topic',
        });
      }
    }
  }

  for (const { rule, path } of rules) {
    if (path[0] !== 'domainRules' || rule.disabled === true || (rule.type !== 'CEL' && rule.type !== 'CEL_FIELD')) continue;
    const error = celCompileError(rule);
    if (error !== undefined) {
      findings.push({ path: [...path, 'expr'], code: 'JOB_INVALID', message: `${ctx.origin}: rule ${rule.name}: ${error}`, expected: 'a CEL expression (CEL_FIELD: an optional guard, ";", the expression)' });
    }
    const success = actionsOf(rule, 'success');
    if (!(success instanceof Error) && (success.write === 'DLQ' || success.read === 'DLQ')) {
      findings.push({ path: [...path, 'onSuccess'], code: 'JOB_INVALID', message: `rule ${rule.name}: onSuccess DLQ is not an action the clients take`, expected: 'NONE or ERROR (both do nothing on success)' });
    }
  }

  for (const { rule, path } of rules) {
    if (!enabled || !isWriteEncryptRule(rule)) continue;
    const actions = actionsOf(rule, 'failure');
    if (!(actions instanceof Error) && actions.write === 'NONE' && !ctx.allowPlaintextOnEncryptFailure) {
      findings.push({
        path: [...path, 'onFailure'],
        code: 'JOB_UNSAFE',
        message: `write-side onFailure NONE on ${rule.type} rule ${rule.name} writes fields UNENCRYPTED when encryption fails; refused unless spec.allowPlaintextOnEncryptFailure is true`,
        expected: 'ERROR or DLQ on write (for example ERROR, or ERROR,NONE for WRITEREAD rules)',
      });
    }
  }

  const encrypts = enabled && rules.some((l) => isWriteEncryptRule(l.rule));
  if ((ctx.mode === 'encrypt' || ctx.mode === 'reencrypt') && !encrypts) {
    findings.push({
      path: [],
      anchor: 'owner',
      code: 'JOB_UNSAFE',
      message: `mode ${ctx.mode} but ${ctx.origin} has no enabled ENCRYPT rule that runs on write: records would be written in plaintext`,
      expected: 'at least one ENCRYPT or ENCRYPT_PAYLOAD rule with mode WRITE or WRITEREAD',
    });
  }
  if (ctx.mode === 'decrypt' && encrypts) {
    for (const { rule, path } of rules) {
      if (!isWriteEncryptRule(rule)) continue;
      findings.push({
        path: [...path, 'type'],
        code: 'JOB_INVALID',
        message: `mode decrypt but ${ctx.origin} carries ${rule.type} rule ${rule.name}: the output would be encrypted again`,
        expected: 'no ENCRYPT rule on the target of a decrypt job (use mode reencrypt to change keys)',
      });
    }
  }
  return findings;
}
