// validate refuses a job whose CEL or CEL_FIELD rule does not compile (the rule's path, name and the
// parser's message), and onSuccess DLQ on them; a compiling contract validates.
import { describe, expect, it } from 'vitest';
import { formatProblems, validateJobFiles } from '../../../src/jobs/index.js';
import { checkRuleSet } from '../../../src/jobs/rule-checks.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

const withRules = (extra: string) => VALID_JOB.replace('    domainRules:\n', `    domainRules:\n${extra}`);

describe('CEL rules in jobs', () => {
  it('a contract with a CEL condition and a CEL_FIELD mask before ENCRYPT validates', async () => {
    const yaml = withRules(
      "      - name: positive\n        type: CEL\n        kind: CONDITION\n        expr: 'message.amount > 0.0'\n" +
        "      - name: mask\n        type: CEL_FIELD\n        kind: TRANSFORM\n        tags: [PII]\n        expr: \"name == 'ssn' ; value.substring(0, 3)\"\n",
    );
    const result = await validateJobFiles(writeJobFiles({ 'job.yaml': yaml }));
    expect(formatProblems(result.problems)).toEqual([]);
  });

  it('an expression that does not compile is refused with its path, rule name and the parser message', async () => {
    const yaml = withRules("      - name: broken\n        type: CEL\n        kind: CONDITION\n        expr: 'message.amount >'\n");
    const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
    const result = await validateJobFiles([file]);
    expect(result.ok).toBe(false);
    const lines = formatProblems(result.problems);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/spec\.rules\.domainRules\[0\]\.expr: spec\.rules: rule broken: CEL expression does not compile: <input>:1:\d+/);
  });

  it('a disabled rule is not compiled; onSuccess DLQ is refused', () => {
    const ctx = { mode: 'decrypt' as const, allowPlaintextOnEncryptFailure: false, hasDlq: true, origin: 'the target schema' };
    expect(checkRuleSet({ domainRules: [{ name: 'off', type: 'CEL', kind: 'CONDITION', expr: '(', disabled: true }] }, ctx)).toEqual([]);
    const findings = checkRuleSet({ domainRules: [{ name: 'c', type: 'CEL', kind: 'CONDITION', expr: 'true', onSuccess: 'DLQ' }] }, ctx);
    expect(findings).toMatchObject([{ path: ['domainRules', 0, 'onSuccess'], code: 'JOB_INVALID', message: 'rule c: onSuccess DLQ is not an action the clients take' }]);
  });
});
