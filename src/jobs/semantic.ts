/**
 * Checks beyond the schema, each pointing at file:line:column and a field path: secrets in the file,
 * duplicate job names across files, `{topic}` templates, DLQ payload policy against the mode, the join
 * group (join-group-checks.ts) and the static safety checks of spec.rules (rule-checks.ts).
 * `checkJobAgainstTargetRules` applies the same safety checks at run time to the target schema's
 * ruleSet, which only the planner can fetch.
 */
import type { RuleSet } from '../registry/types.js';
import type { Job } from './job-types.js';
import type { LoadedDocument } from './load.js';
import { formatPath, type PathSegment, type Problem } from './problem.js';
import { parseActions } from '../rules/actions.js';
import { checkBackfillSplit } from './backfill-checks.js';
import { checkRuleSet, ENCRYPTING_RULE_TYPES, isWriteEncryptRule, type RuleFinding } from './rule-checks.js';
import { joinGroupConsistency, joinGroupFindings } from './join-group-checks.js';
import { keyFindings } from './key-checks.js';
import { findSecrets } from './secrets.js';
import { hasPlaceholder, hasSeveralSources, renderTemplate, topicRegExp, TOPIC_PLACEHOLDER } from './templates.js';
import { locate, type Anchor, type SourceDocument } from './yaml-source.js';

type Draft = Omit<Problem, 'file' | 'document' | 'line' | 'column' | 'path' | 'severity'> & {
  severity?: Problem['severity'];
};

function at(src: SourceDocument, path: readonly PathSegment[], anchor: Anchor, draft: Draft, job?: string): Problem {
  const pos = locate(src, path, anchor);
  return {
    severity: 'error',
    ...draft,
    file: src.file,
    document: src.index,
    line: pos.line,
    column: pos.column,
    path: formatPath(path),
    ...(job === undefined ? {} : { job }),
  };
}

/** Every semantic problem of a set of loaded documents (all files of one validation run). */
export function checkDocuments(documents: readonly LoadedDocument[]): Problem[] {
  const problems: Problem[] = [];
  for (const d of documents) problems.push(...findSecrets(d.source));
  problems.push(...duplicateNames(documents));
  for (const d of documents) if (d.job !== undefined) problems.push(...checkJob(d.job, d.source));
  problems.push(...joinGroupConsistency(documents));
  for (const d of documents) problems.push(...checkBackfillSplit(d));
  return problems;
}

function nameOf(data: unknown): string | undefined {
  const name = (data as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === 'string' ? name : undefined;
}

function duplicateNames(documents: readonly LoadedDocument[]): Problem[] {
  const first = new Map<string, string>();
  const problems: Problem[] = [];
  for (const d of documents) {
    const name = nameOf(d.data);
    if (name === undefined) continue;
    const pos = locate(d.source, ['metadata', 'name']);
    const seen = first.get(name);
    if (seen === undefined) {
      first.set(name, `${d.source.file}:${pos.line}:${pos.column}`);
      continue;
    }
    problems.push(
      at(d.source, ['metadata', 'name'], 'value', {
        code: 'JOB_INVALID',
        message: `duplicate job name ${name}, first defined at ${seen}`,
        expected: 'a name unique across all job files (it names the consumer group and transactional ids)',
      }, name),
    );
  }
  return problems;
}

/** Semantic checks of one schema-valid job. */
export function checkJob(job: Job, src: SourceDocument): Problem[] {
  const name = job.metadata.name;
  const problem = (path: PathSegment[], draft: Draft, anchor: Anchor = 'value'): Problem => at(src, path, anchor, draft, name);
  const problems: Problem[] = [...checkTopics(job, problem)];
  const { spec } = job;

  if (spec.dlq?.payload === 'source' && spec.mode === 'encrypt') {
    problems.push(
      problem(['spec', 'dlq', 'payload'], {
        code: 'JOB_UNSAFE',
        message: 'payload source with mode encrypt would put plaintext source records in the DLQ',
        expected: 'reference, redacted or encrypted',
      }),
    );
  }
  if (spec.backfill.continueStreaming && spec.source.stopAt === 'end') {
    problems.push(
      problem(['spec', 'backfill', 'continueStreaming'], {
        code: 'JOB_INVALID',
        message: 'continueStreaming contradicts source.stopAt end',
        expected: 'stopAt never to continue streaming after the backfill, or continueStreaming false',
      }),
    );
  }
  if (spec.processing.retryBackoffMaxMs < spec.processing.retryBackoffMs) {
    problems.push(
      problem(['spec', 'processing', 'retryBackoffMaxMs'], {
        code: 'JOB_INVALID',
        message: 'retryBackoffMaxMs is below retryBackoffMs',
        expected: 'retryBackoffMaxMs >= retryBackoffMs',
      }),
    );
  }
  if (spec.allowPlaintextOnEncryptFailure) {
    problems.push(
      problem(['spec', 'allowPlaintextOnEncryptFailure'], {
        code: 'JOB_UNSAFE',
        severity: 'warning',
        message: 'fields may be written UNENCRYPTED when encryption fails (write-side NONE allowed)',
      }),
    );
  }
  for (const f of [...joinGroupFindings(job), ...keyFindings(job)]) {
    const { path, anchor, ...draft } = f;
    problems.push(problem(path, draft, anchor ?? 'value'));
  }
  if (spec.rules !== undefined) {
    const ctx = { mode: spec.mode, allowPlaintextOnEncryptFailure: spec.allowPlaintextOnEncryptFailure, hasDlq: spec.dlq !== undefined, origin: 'spec.rules' };
    for (const f of [...checkRuleSet(spec.rules, ctx), ...staticRuleFindings(job)]) {
      const { path, anchor, ...draft } = f;
      problems.push(problem(['spec', 'rules', ...path], draft, anchor ?? 'value'));
    }
  }
  return problems;
}

/** Checks that only make sense for rules written in the job (at run time params may come from metadata). */
function staticRuleFindings(job: Job): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const names = new Set<string>();
  for (const list of ['domainRules', 'encodingRules', 'migrationRules'] as const) {
    (job.spec.rules?.[list] ?? []).forEach((rule, i) => {
      if (names.has(rule.name)) {
        findings.push({ path: [list, i, 'name'], code: 'JOB_INVALID', message: `duplicate rule name ${rule.name}`, expected: 'rule names unique in the rule set' });
      }
      names.add(rule.name);
      const kek = rule.params?.['encrypt.kek.name'];
      if (rule.type !== undefined && ENCRYPTING_RULE_TYPES.has(rule.type) && (kek === undefined || kek === '')) {
        findings.push({
          path: rule.params === undefined ? [list, i] : [list, i, 'params'],
          anchor: 'owner',
          code: 'JOB_INVALID',
          message: `${rule.type} rule ${rule.name} has no KEK`,
          expected: 'params encrypt.kek.name (with encrypt.kms.type and encrypt.kms.key.id to register a new KEK)',
        });
      }
    });
  }
  return findings;
}

function checkTopics(job: Job, problem: (path: PathSegment[], draft: Draft, anchor?: Anchor) => Problem): Problem[] {
  const { source, target, dlq } = job.spec;
  const problems: Problem[] = [];
  if (source.topicPattern !== undefined) {
    try {
      topicRegExp(source.topicPattern);
    } catch {
      problems.push(problem(['spec', 'source', 'topicPattern'], { code: 'JOB_INVALID', message: 'not a valid regular expression', expected: 'a regular expression over topic names' }));
    }
  }
  if (hasSeveralSources(source)) {
    if (!hasPlaceholder(target.topic)) {
      problems.push(
        problem(['spec', 'target', 'topic'], {
          code: 'JOB_INVALID',
          message: `with several source topics target.topic must contain ${TOPIC_PLACEHOLDER}`,
          expected: `a template such as '${TOPIC_PLACEHOLDER}.enc'`,
        }),
      );
    }
    if (target.subject !== undefined && !hasPlaceholder(target.subject)) {
      problems.push(
        problem(['spec', 'target', 'subject'], {
          code: 'JOB_INVALID',
          severity: 'warning',
          message: `every target topic would share one subject; Confluent consumers look DEKs up under '<topic>-value'`,
          expected: `a template such as '${TOPIC_PLACEHOLDER}.enc-value', or no subject`,
        }),
      );
    }
    if (source.topicPattern !== undefined && target.topic === TOPIC_PLACEHOLDER) {
      problems.push(problem(['spec', 'target', 'topic'], { code: 'JOB_INVALID', message: 'every target would be its own source topic', expected: `a template such as '${TOPIC_PLACEHOLDER}.enc'` }));
    }
  }
  // A subject in a Schema Registry context (`:.ctx:subject`) has its KEKs in that context; recrypt's
  // DEK layer looks KEKs up in the default context still, so it would wrap DEKs under another KEK than
  // the clients use. Refused until keys/ passes the context (registry/context.ts has the lookup).
  for (const field of ['subject', 'keySubject'] as const) {
    const subject = target[field];
    if (subject !== undefined && /^:\.[^:]+:/.test(subject) && !subject.startsWith(':.:')) {
      problems.push(problem(['spec', 'target', field], {
        code: 'JOB_UNSAFE',
        message: 'a subject in a Schema Registry context is not supported yet: its KEKs would be looked up in the default context',
        expected: 'a subject in the default context',
      }));
    }
  }
  const listed = source.topic !== undefined ? [source.topic] : (source.topics ?? []);
  const sources = new Set(listed);
  for (const t of listed) {
    const out = renderTemplate(target.topic, t);
    if (sources.has(out)) {
      problems.push(problem(['spec', 'target', 'topic'], { code: 'JOB_INVALID', message: `the target of source ${t} is itself a source topic`, expected: 'target topics distinct from the source topics' }));
    } else if (out.length > 249) {
      problems.push(problem(['spec', 'target', 'topic'], { code: 'JOB_INVALID', message: `the target of source ${t} is longer than 249 characters`, expected: 'a Kafka topic name' }));
    }
    if (dlq !== undefined) {
      const dlqTopic = renderTemplate(dlq.topic, t);
      if (sources.has(dlqTopic) || dlqTopic === out) {
        problems.push(problem(['spec', 'dlq', 'topic'], { code: 'JOB_INVALID', message: `the DLQ topic of source ${t} is a source or target topic`, expected: 'a topic of its own' }));
      }
    }
  }
  return dedupe(problems);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Run-time checks of a job against the target schema's ruleSet (fetched by the planner), with the
 * same rules as validation: write-side NONE on ENCRYPT rules, mode against ENCRYPT rules, DLQ payload
 * `source` only over ciphertext. Problems carry no file position; paths read
 * `spec.target.schema(ruleSet).domainRules[0].onFailure`.
 */
export function checkJobAgainstTargetRules(job: Job, targetRuleSet: RuleSet | undefined, sourceHasEncryptRules: boolean): Problem[] {
  const { spec } = job;
  const name = job.metadata.name;
  const prefix = 'spec.target.schema(ruleSet)';
  const ctx = { mode: spec.mode, allowPlaintextOnEncryptFailure: spec.allowPlaintextOnEncryptFailure, hasDlq: spec.dlq !== undefined, origin: 'the target schema' };
  const problems: Problem[] = checkRuleSet(targetRuleSet ?? {}, ctx).map(({ path, anchor: _anchor, ...f }) => ({
    severity: 'error',
    ...f,
    path: path.length === 0 ? prefix : `${prefix}.${formatPath(path)}`,
    job: name,
  }));
  if (spec.mode === 'reencrypt' && !sourceHasEncryptRules) {
    problems.push({
      code: 'JOB_INVALID',
      severity: 'error',
      path: 'spec.mode',
      message: 'mode reencrypt but the source schema carries no ENCRYPT rule',
      expected: 'mode encrypt for a plaintext source',
      job: name,
    });
  }
  if (spec.mode === 'decrypt' && !sourceHasEncryptRules) {
    problems.push({ code: 'JOB_INVALID', severity: 'warning', path: 'spec.mode', message: 'mode decrypt but the source schema carries no ENCRYPT rule: nothing to decrypt', job: name });
  }
  if (spec.dlq?.payload === 'source' && (spec.mode === 'encrypt' || !sourceHasEncryptRules)) {
    problems.push({
      code: 'JOB_UNSAFE',
      severity: 'error',
      path: 'spec.dlq.payload',
      message: 'payload source would put plaintext of tagged source fields in the DLQ',
      expected: 'reference, redacted or encrypted',
      job: name,
    });
  }
  return problems;
}

/**
 * DLQ payload `source` against the source subject's own rules (fetched by the planner): refused wherever
 * a tagged source field may be plaintext. Besides mode encrypt and a source without ENCRYPT rules
 * (checkJobAgainstTargetRules), that is a source ENCRYPT rule whose write-side onFailure is NONE (a
 * Confluent producer then writes the field in plaintext when encryption fails) or that is disabled or
 * read-only (the producer never encrypted). At run time dlq/ also checks, per writer schema, that every
 * tagged field is covered by such a rule, and the guard scans the outgoing bytes.
 */
export function checkDlqSourcePolicy(job: Job, sourceRuleSet: RuleSet | undefined): Problem[] {
  if (job.spec.dlq?.payload !== 'source') return [];
  const problems: Problem[] = [];
  const refuse = (message: string): void => {
    problems.push({ code: 'JOB_UNSAFE', severity: 'error', path: 'spec.dlq.payload', message, expected: 'reference, redacted or encrypted', job: job.metadata.name });
  };
  const rules = [...(sourceRuleSet?.domainRules ?? []), ...(sourceRuleSet?.encodingRules ?? [])].filter((r) => r.type !== undefined && ENCRYPTING_RULE_TYPES.has(r.type));
  for (const rule of rules) {
    if (!isWriteEncryptRule(rule)) {
      refuse(`payload source: source rule ${rule.name} does not encrypt on write (disabled, read-only or not a transform), so its fields may be plaintext`);
      continue;
    }
    let writeAction: string;
    try {
      writeAction = parseActions(rule, 'failure').write;
    } catch {
      writeAction = 'NONE';
    }
    if (writeAction === 'NONE') refuse(`payload source: source rule ${rule.name} lets producers write fields in plaintext when encryption fails (onFailure NONE on write)`);
  }
  return problems;
}
