import { describe, expect, it } from 'vitest';
import { checkDlqSourcePolicy } from '../../../src/jobs/semantic.js';
import { loadText } from '../../../src/jobs/load.js';
import type { Job } from '../../../src/jobs/index.js';
import type { Rule, RuleSet } from '../../../src/registry/types.js';

function job(payload: string): Job {
  const { documents } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: reenc }
spec:
  mode: reencrypt
  source: { topic: a }
  target: { topic: b }
  dlq: { topic: a.dlq, payload: ${payload} }
`);
  return documents[0]!.job!;
}

const rule = (over: Partial<Rule> = {}): RuleSet => ({
  domainRules: [{ name: 'pii', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k' }, ...over }],
});

describe('checkDlqSourcePolicy: payload source only where every tagged source field is ciphertext', () => {
  it('accepts a source whose ENCRYPT rules encrypt on write and fail closed', () => {
    expect(checkDlqSourcePolicy(job('source'), rule({ onFailure: 'ERROR,DLQ' }))).toEqual([]);
    expect(checkDlqSourcePolicy(job('source'), rule())).toEqual([]);
  });

  it('refuses rules that may leave plaintext in the source: write-side NONE, disabled, read-only', () => {
    for (const over of [{ onFailure: 'NONE,ERROR' }, { onFailure: 'NONE' }, { disabled: true }, { mode: 'READ' as const }]) {
      const problems = checkDlqSourcePolicy(job('source'), rule(over));
      expect(problems.map((p) => [p.code, p.path])).toEqual([['JOB_UNSAFE', 'spec.dlq.payload']]);
    }
  });

  it('says nothing about other payload policies', () => {
    expect(checkDlqSourcePolicy(job('redacted'), rule({ onFailure: 'NONE' }))).toEqual([]);
  });
});
