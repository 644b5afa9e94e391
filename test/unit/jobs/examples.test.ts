import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems, validateJobFiles } from '../../../src/jobs/index.js';

const dir = join(import.meta.dirname, '../../../jobs/examples');
const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('jobs/examples', () => {
  it('has the documented examples', () => {
    expect(examples).toEqual(
      expect.arrayContaining(['backfill-encrypt.yaml', 'decrypt-trusted-sink.yaml', 'reencrypt-gcm-to-siv.yaml', 'pattern-many-topics.yaml', 'join-group.yaml', 'data-contract.yaml']),
    );
  });

  it.each(examples)('%s validates with no problem at all', async (file) => {
    const result = await validateJobFiles([join(dir, file)]);
    expect(formatProblems(result.problems)).toEqual([]);
    expect(result.ok).toBe(true);
    // join-group.yaml holds the two jobs of one group (one per topic); every other example is one job.
    expect(result.jobs).toHaveLength(file === 'join-group.yaml' ? 2 : 1);
  });

  it('the sample job of shared/JOBS.md validates verbatim', async () => {
    const result = await validateJobFiles([join(import.meta.dirname, 'fixtures/jobs-md-sample.yaml')]);
    expect(formatProblems(result.problems)).toEqual([]);
    expect(result.jobs[0]?.spec.rules?.domainRules?.[0]?.params?.['encrypt.kms.key.id']).toBe('arn:aws:kms:...');
  });

  it('validate together: names are unique across the examples', async () => {
    const result = await validateJobFiles(examples.map((f) => join(dir, f)));
    expect(result.problems).toEqual([]);
    expect(result.jobs.map((j) => j.metadata.name).sort()).toEqual(
      ['customers-backfill', 'customers-siv', 'legacy-encrypt-all', 'orders-to-warehouse', 'orders-join-siv', 'customers-join-siv', 'orders-keys-siv', 'orders-contract'].sort(),
    );
  });
});
