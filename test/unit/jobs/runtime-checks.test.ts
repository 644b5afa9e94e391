import { describe, expect, it } from 'vitest';
import { checkJobAgainstTargetRules, formatProblems, validateJobFiles, type Job } from '../../../src/jobs/index.js';
import type { RuleSet } from '../../../src/registry/types.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

async function jobFrom(yaml: string): Promise<Job> {
  const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
  const { jobs, problems } = await validateJobFiles([file]);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return jobs[0] as Job;
}

const NO_RULES = VALID_JOB.slice(0, VALID_JOB.indexOf('  rules:'));
const enc = (over: Partial<RuleSet['domainRules'] extends (infer R)[] | undefined ? R : never> = {}): RuleSet => ({
  domainRules: [{ name: 'encryptPII', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k' }, ...over }],
});

describe('checkJobAgainstTargetRules', () => {
  it('encrypt: a target with an ENCRYPT rule is fine', async () => {
    expect(checkJobAgainstTargetRules(await jobFrom(NO_RULES), enc(), false)).toEqual([]);
  });

  it('encrypt: a target without ENCRYPT rule (or none at all) is unsafe', async () => {
    const job = await jobFrom(NO_RULES);
    for (const rs of [undefined, {}, enc({ disabled: true }), enc({ mode: 'READ' }), { ...enc(), enableAt: 'NEVER' } as unknown as RuleSet]) {
      const problems = checkJobAgainstTargetRules(job, rs, false);
      expect(problems.map((p) => [p.code, p.path])).toEqual([['JOB_UNSAFE', 'spec.target.schema(ruleSet)']]);
    }
  });

  it('write-side NONE in the registry ruleSet is refused, without file position', async () => {
    const problems = checkJobAgainstTargetRules(await jobFrom(NO_RULES), enc({ onFailure: 'none,error' }), false);
    expect(formatProblems(problems)).toEqual([
      expect.stringMatching(/^spec\.target\.schema\(ruleSet\)\.domainRules\[0\]\.onFailure: write-side onFailure NONE on ENCRYPT rule encryptPII/),
    ]);
    expect(problems[0]).toMatchObject({ code: 'JOB_UNSAFE', job: 'customers-backfill' });
    expect(problems[0]?.file).toBeUndefined();
  });

  it('write-side NONE passes with the opt-in; read-side NONE always passes', async () => {
    const optIn = await jobFrom(NO_RULES.replace('  mode: encrypt\n', '  mode: encrypt\n  allowPlaintextOnEncryptFailure: true\n'));
    expect(checkJobAgainstTargetRules(optIn, enc({ onFailure: 'NONE' }), false)).toEqual([]);
    expect(checkJobAgainstTargetRules(await jobFrom(NO_RULES), enc({ onFailure: 'ERROR,NONE' }), false)).toEqual([]);
  });

  it('decrypt: a target carrying an ENCRYPT rule is refused', async () => {
    const job = await jobFrom(NO_RULES.replace('mode: encrypt', 'mode: decrypt'));
    expect(checkJobAgainstTargetRules(job, enc(), true).map((p) => [p.code, p.path])).toEqual([
      ['JOB_INVALID', 'spec.target.schema(ruleSet).domainRules[0].type'],
    ]);
    expect(checkJobAgainstTargetRules(job, {}, true)).toEqual([]);
  });

  it('reencrypt needs ENCRYPT rules on both sides', async () => {
    const job = await jobFrom(NO_RULES.replace('mode: encrypt', 'mode: reencrypt'));
    expect(checkJobAgainstTargetRules(job, enc(), true)).toEqual([]);
    expect(checkJobAgainstTargetRules(job, enc(), false).map((p) => p.path)).toEqual(['spec.mode']);
  });

  it('DLQ payload source is refused when the source is plaintext', async () => {
    const job = await jobFrom(NO_RULES.replace('mode: encrypt', 'mode: reencrypt') + '  dlq:\n    topic: customers.dlq\n    payload: source\n');
    expect(checkJobAgainstTargetRules(job, enc(), true)).toEqual([]);
    expect(checkJobAgainstTargetRules(job, enc(), false).map((p) => [p.code, p.path])).toEqual([
      ['JOB_INVALID', 'spec.mode'],
      ['JOB_UNSAFE', 'spec.dlq.payload'],
    ]);
  });

  it('a DLQ action without any DLQ topic is refused; a rule dlq.topic param is enough', async () => {
    const job = await jobFrom(NO_RULES);
    expect(checkJobAgainstTargetRules(job, enc({ onFailure: 'DLQ' }), false).map((p) => p.path)).toEqual(['spec.target.schema(ruleSet).domainRules[0].onFailure']);
    expect(checkJobAgainstTargetRules(job, enc({ onFailure: 'DLQ', params: { 'encrypt.kek.name': 'k', 'dlq.topic': 'd' } }), false)).toEqual([]);
  });
});
