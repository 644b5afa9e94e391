/**
 * Checks of `spec.target.joinGroup` (issue #23) beyond its schema (which refuses empty, repeated or
 * fewer than two subjects): the job's target subject is in the group; the ENCRYPT rules that write with
 * it name one KEK and one algorithm, AES256_SIV (the point of a group: equal plaintexts, equal
 * ciphertexts across topics); a decrypt job has no use for one. At validation the rules are the job's
 * own spec.rules; at run time (checkJoinGroupAgainstTargetRules) the target schema's ruleSet, with the
 * schema metadata that may carry rule params. Across the files of one validation run, every job that
 * names a group lists the same subjects (joinGroupConsistency). Messages name rules, groups and
 * subjects, never rule param values.
 */
import type { Rule, SchemaInfo } from '../registry/types.js';
import { DEFAULT_DEK_ALGORITHM, ENCRYPT_DEK_ALGORITHM, ENCRYPT_KEK_NAME, ruleParameter } from '../rules/encryption-params.js';
import type { Job } from './job-types.js';
import type { LoadedDocument } from './load.js';
import { formatPath, type PathSegment, type Problem } from './problem.js';
import { isWriteEncryptRule, type RuleFinding, type RuleSetLike } from './rule-checks.js';
import { hasPlaceholder, targetSubjectFor } from './templates.js';
import { locate } from './yaml-source.js';

const GROUP_PATH = ['spec', 'target', 'joinGroup'];
const SIV = 'AES256_SIV';

/** A finding with a path from the document root. */
export type JoinGroupFinding = RuleFinding;

/** The target subjects a job writes that can be known without listing topics (none for a pattern with {topic}). */
function knownTargetSubjects(job: Job): string[] {
  const { source, target } = job.spec;
  if (source.topic !== undefined) return [targetSubjectFor(job, source.topic)];
  if (source.topics !== undefined) return source.topics.map((t) => targetSubjectFor(job, t));
  return target.subject !== undefined && !hasPlaceholder(target.subject) ? [target.subject] : [];
}

/** The problem when `subject` (a target subject of the job) is not in its join group, else undefined. */
export function joinGroupMembershipMessage(job: Job, subject: string): string | undefined {
  const group = job.spec.target.joinGroup;
  if (group === undefined || group.subjects.includes(subject)) return undefined;
  return `the target subject ${subject} is not in join group ${group.name}`;
}

const MEMBERSHIP_EXPECTED = "every target subject of the job listed in joinGroup.subjects (the default target subject is '<target topic>-value')";

/** Static findings of a job's join group (paths from the document root). */
export function joinGroupFindings(job: Job): JoinGroupFinding[] {
  const group = job.spec.target.joinGroup;
  if (group === undefined) return [];
  const findings: JoinGroupFinding[] = [];
  for (const subject of new Set(knownTargetSubjects(job))) {
    const message = joinGroupMembershipMessage(job, subject);
    if (message !== undefined) findings.push({ path: [...GROUP_PATH, 'subjects'], code: 'JOB_INVALID', message, expected: MEMBERSHIP_EXPECTED });
  }
  if (job.spec.mode === 'decrypt') {
    findings.push({
      path: GROUP_PATH, anchor: 'owner', code: 'JOB_INVALID',
      message: 'mode decrypt writes no ciphertext, so a join group has nothing to share',
      expected: 'mode encrypt or reencrypt, or no joinGroup',
    });
  }
  if (job.spec.rules !== undefined) {
    findings.push(...groupRuleFindings(job.spec.rules, undefined, group.name).map((f) => ({ ...f, path: ['spec', 'rules', ...f.path] })));
  }
  return findings;
}

/**
 * The write-side ENCRYPT rules of `ruleSet` against a join group: one KEK, one algorithm, AES256_SIV.
 * Paths are relative to the rule set. `schema` supplies params from metadata (run time only).
 */
export function groupRuleFindings(ruleSet: RuleSetLike, schema: Pick<SchemaInfo, 'metadata'> | undefined, groupName: string): RuleFinding[] {
  const writers: Array<{ rule: Rule; path: PathSegment[]; kek: string | undefined; algorithm: string }> = [];
  for (const list of ['domainRules', 'encodingRules'] as const) {
    (ruleSet[list] ?? []).forEach((rule, i) => {
      if (!isWriteEncryptRule(rule)) return;
      const algorithm = ruleParameter(rule, schema, ENCRYPT_DEK_ALGORITHM)?.trim() ?? DEFAULT_DEK_ALGORITHM;
      writers.push({ rule, path: [list, i], kek: ruleParameter(rule, schema, ENCRYPT_KEK_NAME)?.trim(), algorithm });
    });
  }
  const findings: RuleFinding[] = [];
  const paramsPath = (w: (typeof writers)[number]): PathSegment[] => (w.rule.params === undefined ? w.path : [...w.path, 'params']);
  for (const w of writers) {
    if (w.algorithm === SIV) continue;
    const inParams = w.rule.params?.[ENCRYPT_DEK_ALGORITHM] !== undefined;
    const declared = ruleParameter(w.rule, schema, ENCRYPT_DEK_ALGORITHM) !== undefined;
    findings.push({
      path: inParams ? [...w.path, 'params', ENCRYPT_DEK_ALGORITHM] : paramsPath(w),
      anchor: inParams ? 'value' : 'owner',
      code: 'JOB_INVALID',
      message: `rule ${w.rule.name} writes with ${declared ? w.algorithm : `the default ${DEFAULT_DEK_ALGORITHM}`}, but join group ${groupName} needs the deterministic ${SIV}`,
      expected: `${ENCRYPT_DEK_ALGORITHM}: ${SIV} on every ENCRYPT rule that writes with the group`,
    });
  }
  const first = writers[0];
  for (const w of writers.slice(1)) {
    if (w.kek === first!.kek) continue;
    findings.push({
      path: paramsPath(w), anchor: 'owner', code: 'JOB_INVALID',
      message: `rules ${first!.rule.name} and ${w.rule.name} write with different KEKs, but join group ${groupName} shares one DEK for one KEK`,
      expected: `one ${ENCRYPT_KEK_NAME} for every ENCRYPT rule that writes with the group`,
    });
  }
  return findings;
}

/**
 * Run-time checks of a job's join group against the target subject it writes and the target schema
 * (fetched by the planner): membership, and the schema's write-side ENCRYPT rules. Problems carry no
 * file position; rule paths read `spec.target.schema(ruleSet).domainRules[0].params`.
 */
export function checkJoinGroupAgainstTarget(job: Job, targetSubject: string, target: Pick<SchemaInfo, 'metadata' | 'ruleSet'> | undefined): Problem[] {
  const group = job.spec.target.joinGroup;
  if (group === undefined) return [];
  const name = job.metadata.name;
  const problems: Problem[] = [];
  const membership = joinGroupMembershipMessage(job, targetSubject);
  if (membership !== undefined) {
    problems.push({ code: 'JOB_INVALID', severity: 'error', path: 'spec.target.joinGroup.subjects', message: membership, expected: MEMBERSHIP_EXPECTED, job: name });
  }
  for (const f of groupRuleFindings(target?.ruleSet ?? {}, target, group.name)) {
    problems.push({ code: f.code, severity: 'error', path: `spec.target.schema(ruleSet).${formatPath(f.path)}`, message: f.message, ...(f.expected === undefined ? {} : { expected: f.expected }), job: name });
  }
  return problems;
}

/** Jobs of one validation run that name the same group with another subject list than its first job. */
export function joinGroupConsistency(documents: readonly LoadedDocument[]): Problem[] {
  const first = new Map<string, { subjects: string; where: string }>();
  const problems: Problem[] = [];
  for (const d of documents) {
    const group = d.job?.spec.target.joinGroup;
    if (group === undefined) continue;
    const subjects = [...group.subjects].sort().join('\u0000');
    const pos = locate(d.source, [...GROUP_PATH, 'subjects']);
    const seen = first.get(group.name);
    if (seen === undefined) {
      first.set(group.name, { subjects, where: `${d.source.file}:${pos.line}:${pos.column}` });
      continue;
    }
    if (seen.subjects === subjects) continue;
    problems.push({
      code: 'JOB_INVALID', severity: 'error', file: d.source.file, document: d.source.index, line: pos.line, column: pos.column,
      path: formatPath([...GROUP_PATH, 'subjects']), job: d.job!.metadata.name,
      message: `join group ${group.name} lists other subjects than at ${seen.where}`,
      expected: 'the same subjects (in any order) in every job of the group: they decide the anchor and where DEKs are registered',
    });
  }
  return problems;
}
