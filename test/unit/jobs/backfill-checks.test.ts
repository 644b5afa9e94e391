// backfill.taskRecords is only used with relaxOrdering (issue 21, defect 10): an ordered backfill runs
// one task per partition whatever taskRecords says. `validate` used to accept it silently (the example
// job set it); now it is a warning at the key's file:line:column. Warnings do not make the job invalid.
import { describe, expect, it } from 'vitest';
import { formatProblems, validateJobFiles } from '../../../src/jobs/index.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

async function validate(backfill: string) {
  const [file] = writeJobFiles({ 'job.yaml': `${VALID_JOB}${backfill}` }) as [string];
  return { file, result: await validateJobFiles([file]) };
}

describe('backfill.taskRecords without relaxOrdering', () => {
  it('is a warning at the taskRecords key, and the job stays valid', async () => {
    const { file, result } = await validate('  backfill:\n    continueStreaming: false\n    taskRecords: 500000\n');
    // VALID_JOB ends with a newline: its line count is where `backfill:` goes.
    const line = VALID_JOB.split('\n').length + 2;
    expect(result.ok).toBe(true);
    expect(result.problems).toEqual([expect.objectContaining({
      severity: 'warning', code: 'JOB_INVALID', path: 'spec.backfill.taskRecords', line, column: 5, job: 'customers-backfill',
    })]);
    expect(formatProblems(result.problems)[0]).toContain(`${file}:${line}:5`);
    expect(formatProblems(result.problems)[0]).toMatch(/taskRecords has no effect without relaxOrdering: true/);
  });

  it('also with relaxOrdering: false written out', async () => {
    const { result } = await validate('  backfill:\n    relaxOrdering: false\n    taskRecords: 2000\n');
    expect(result.problems.map((p) => [p.severity, p.path])).toEqual([['warning', 'spec.backfill.taskRecords']]);
  });

  it('is fine with relaxOrdering: true, or without taskRecords', async () => {
    for (const backfill of ['  backfill:\n    relaxOrdering: true\n    taskRecords: 2000\n', '  backfill:\n    relaxOrdering: false\n', '']) {
      const { result } = await validate(backfill);
      expect(formatProblems(result.problems)).toEqual([]);
    }
  });
});
