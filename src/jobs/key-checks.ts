/**
 * Checks of a job's record keys (`spec.keys`, `spec.target.keySubject`, `spec.target.partition`): what
 * validate can know from the file, and what run/plan check against the key subjects' schemas once the
 * registry answers (the source key subject must have a schema, the target key subject's rules must fit
 * the mode and, for `partition: keyHash`, give equal keys equal bytes).
 */
import type { RuleSet } from '../registry/types.js';
import { hasSeveralSources, hasPlaceholder, TOPIC_PLACEHOLDER } from './templates.js';
import type { Job } from './job-types.js';
import type { Problem } from './problem.js';
import { checkRuleSet, ENCRYPTING_RULE_TYPES, type RuleFinding } from './rule-checks.js';

const SIV = 'AES256_SIV';

/** Static findings about keys (paths from the document root). */
export function keyFindings(job: Job): RuleFinding[] {
  const { spec } = job;
  const findings: RuleFinding[] = [];
  if (spec.keys !== 'rules' && spec.target.keySubject !== undefined) {
    findings.push({
      path: ['spec', 'target', 'keySubject'], code: 'JOB_INVALID',
      message: 'target.keySubject does nothing while keys is passthrough (keys are copied as they are)',
      expected: 'keys: rules, or no keySubject',
    });
  }
  if (spec.keys === 'rules' && spec.target.keySubject !== undefined && hasSeveralSources(spec.source) && !hasPlaceholder(spec.target.keySubject)) {
    findings.push({
      path: ['spec', 'target', 'keySubject'], code: 'JOB_INVALID', severity: 'warning',
      message: "every target topic would share one key subject; Confluent consumers look key DEKs up under '<topic>-key'",
      expected: `a template such as '${TOPIC_PLACEHOLDER}.enc-key', or no keySubject`,
    });
  }
  return findings;
}

/**
 * Run-time checks of `keys: rules` for one source topic: the source key subject's latest schema
 * (null: none; undefined: not looked up, the subject name strategy is not the topic's) and the target
 * key subject's ruleSet. Problems carry no file position.
 */
export function checkKeySubjects(
  job: Job, sourceKeySubject: string, sourceKeySchema: { ruleSet?: RuleSet } | null | undefined, targetKeySubject: string, targetRuleSet: RuleSet | undefined,
): Problem[] {
  const { spec } = job;
  const name = job.metadata.name;
  const problems: Problem[] = [];
  if (sourceKeySchema === null) {
    problems.push({
      code: 'JOB_INVALID', severity: 'error', path: 'spec.keys',
      message: `keys: rules but the source key subject ${sourceKeySubject} has no schema`,
      expected: `the key schema registered under ${sourceKeySubject} (keys in Confluent framing), or keys: passthrough`,
      job: name,
    });
  }
  const prefix = `spec.target.keySubject(${targetKeySubject}).ruleSet`;
  const ctx = { mode: spec.mode, allowPlaintextOnEncryptFailure: spec.allowPlaintextOnEncryptFailure, hasDlq: spec.dlq !== undefined, origin: `the target key schema ${targetKeySubject}` };
  for (const { path, anchor: _anchor, ...f } of checkRuleSet(targetRuleSet ?? {}, ctx)) {
    problems.push({ severity: 'error', ...f, path: path.length === 0 ? prefix : `${prefix}.${path.join('.')}`, job: name });
  }
  if (spec.target.partition === 'keyHash' && spec.mode !== 'decrypt') {
    const rules = [...(targetRuleSet?.domainRules ?? []), ...(targetRuleSet?.encodingRules ?? [])]
      .filter((r) => r.type !== undefined && ENCRYPTING_RULE_TYPES.has(r.type) && r.disabled !== true);
    for (const rule of rules) {
      const algorithm = rule.params?.['encrypt.dek.algorithm'] ?? 'AES256_GCM';
      if (algorithm !== SIV) {
        problems.push({
          code: 'JOB_UNSAFE', severity: 'error', path: 'spec.target.partition',
          message: `partition keyHash but key rule ${rule.name} of ${targetKeySubject} encrypts with ${algorithm}: equal keys would get different bytes and so different partitions`,
          expected: `encrypt.dek.algorithm ${SIV} on the target key subject's rules, or partition: source`,
          job: name,
        });
      }
    }
  }
  return problems;
}
