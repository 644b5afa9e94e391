import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadJobFiles, validateJobFiles } from '../../../src/jobs/index.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

describe('loading', () => {
  it('applies defaults after validation', async () => {
    const [file] = writeJobFiles({ 'job.yaml': VALID_JOB }) as [string];
    const { jobs, problems } = await validateJobFiles([file]);
    expect(problems).toEqual([]);
    const job = jobs[0];
    expect(job?.spec.source).toEqual({ topic: 'customers', subjectNameStrategy: 'topic', startAt: 'committed', stopAt: 'never' });
    expect(job?.spec.target).toEqual({ topic: 'customers.enc', schema: 'latest', createTopic: false });
    expect(job?.spec).toMatchObject({ exactlyOnce: true, allowPlaintextOnEncryptFailure: false, keys: 'passthrough' });
    expect(job?.spec.processing.batchSize).toBe(500);
    expect(job?.spec.backfill).toEqual({ taskRecords: 1000000, relaxOrdering: false, continueStreaming: false });
    // Rules are kept as written (they go to the registry): no kind/mode defaults inserted.
    expect(job?.spec.rules?.domainRules?.[0]).toEqual({
      name: 'encryptPII',
      type: 'ENCRYPT',
      tags: ['PII'],
      params: { 'encrypt.kek.name': 'pii-kek' },
      onFailure: 'ERROR,NONE',
    });
  });

  it('the loaded job is deep-frozen', async () => {
    const [file] = writeJobFiles({ 'job.yaml': VALID_JOB }) as [string];
    const { jobs } = await validateJobFiles([file]);
    const job = jobs[0] as unknown as { spec: { mode: string; rules: { domainRules: Array<{ tags: string[]; params: Record<string, string> }> } } };
    expect(Object.isFrozen(job)).toBe(true);
    expect(() => {
      job.spec.mode = 'decrypt';
    }).toThrow(TypeError);
    expect(() => job.spec.rules.domainRules[0]?.tags.push('X')).toThrow(TypeError);
    expect(() => {
      (job.spec.rules.domainRules[0] as { params: Record<string, string> }).params['encrypt.kek.name'] = 'other';
    }).toThrow(TypeError);
  });

  it('keeps every document of a multi-document file, with its source', async () => {
    const [file] = writeJobFiles({ 'm.yaml': `${VALID_JOB}---\n${VALID_JOB.replace('customers-backfill', 'second')}` }) as [string];
    const result = await loadJobFiles([file]);
    expect(result.problems).toEqual([]);
    expect(result.jobs.map((j) => [j.job.metadata.name, j.source.index])).toEqual([
      ['customers-backfill', 0],
      ['second', 1],
    ]);
  });

  it('a set with any error returns no job at all', async () => {
    const [good, bad] = writeJobFiles({ 'good.yaml': VALID_JOB, 'bad.yaml': VALID_JOB.replace('customers-backfill', 'x').replace('mode: encrypt', 'mode: nope') }) as [string, string];
    const result = await validateJobFiles([good, bad]);
    expect(result.ok).toBe(false);
    expect(result.jobs).toEqual([]);
  });

  it('property: never throws, whatever the file holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (text) => {
        const [file] = writeJobFiles({ 'f.yaml': text }) as [string];
        const result = await validateJobFiles([file]);
        for (const p of result.problems) {
          if (p.line !== undefined) expect(p.line).toBeGreaterThanOrEqual(1);
          if (p.column !== undefined) expect(p.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('property: never throws for mutated valid jobs (lines dropped or duplicated)', async () => {
    const lines = VALID_JOB.split('\n');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: lines.length - 1 }), { maxLength: 4 }), fc.boolean(), async (picks, duplicate) => {
        const mutated = lines.flatMap((l, i) => (picks.includes(i) ? (duplicate ? [l, l] : []) : [l])).join('\n');
        const [file] = writeJobFiles({ 'f.yaml': mutated }) as [string];
        const result = await validateJobFiles([file]);
        if (picks.length > 0 && !result.ok) expect(result.problems.length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});
