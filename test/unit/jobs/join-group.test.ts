// spec.target.joinGroup (issue #23): refused at validate with file:line, the field path and what was
// expected when the group cannot share one deterministic DEK; checked again at run time against the
// target schema's rules (params from metadata included).
import { describe, expect, it } from 'vitest';
import { checkJoinGroupAgainstTarget, formatProblems, validateJobFiles, type Job } from '../../../src/jobs/index.js';
import { writeJobFiles } from './helpers.js';

function job(options: { name?: string; topic?: string; subjects?: string; mode?: string; params?: string; secondRule?: string } = {}): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${options.name ?? 'orders-join'}
spec:
  mode: ${options.mode ?? 'reencrypt'}
  source:
    topic: ${options.topic ?? 'orders'}.enc
  target:
    topic: ${options.topic ?? 'orders'}.siv
    joinGroup:
      name: customer-ids
      subjects: ${options.subjects ?? '[orders.siv-value, customers.siv-value]'}
  rules:
    domainRules:
      - name: encryptIds
        type: ENCRYPT
        tags: [JOIN_KEY]
        params:
          encrypt.kek.name: join-kek
${options.params ?? '          encrypt.dek.algorithm: AES256_SIV'}
${options.secondRule ?? ''}`;
}

async function problems(...texts: string[]): Promise<string[]> {
  const files = writeJobFiles(Object.fromEntries(texts.map((t, i) => [`job${i}.yaml`, t])));
  const result = await validateJobFiles(files);
  return formatProblems(result.problems).map((p) => p.replace(/^[^:]*\/(job\d\.yaml)/, '$1').replace(/at [^:]*\/(job\d\.yaml)/, 'at $1'));
}

describe('spec.target.joinGroup at validate', () => {
  it('a group over both target subjects, one KEK and AES256_SIV validates', async () => {
    expect(await problems(job(), job({ name: 'customers-join', topic: 'customers' }))).toEqual([]);
  });

  it("refuses a group without the job's own target subject", async () => {
    const out = await problems(job({ subjects: '[customers.siv-value, payments.siv-value]' }));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^job0\.yaml:13:17: spec\.target\.joinGroup\.subjects: the target subject orders\.siv-value is not in join group customer-ids.*expected every target subject of the job listed/);
  });

  it('refuses a non-SIV algorithm, pointing at the param', async () => {
    const out = await problems(job({ params: '          encrypt.dek.algorithm: AES256_GCM' }));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^job0\.yaml:21:\d+: .*encrypt\.dek\.algorithm.*rule encryptIds writes with AES256_GCM, but join group customer-ids needs the deterministic AES256_SIV.*expected encrypt\.dek\.algorithm: AES256_SIV/);
  });

  it('refuses a rule left at the default algorithm (AES256_GCM)', async () => {
    const out = await problems(job({ params: '' }));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^job0\.yaml:19:9: .*domainRules\[0\]\.params.*writes with the default AES256_GCM/);
  });

  it('refuses two ENCRYPT rules writing with different KEKs', async () => {
    const second = `      - name: encryptMore
        type: ENCRYPT
        tags: [PII]
        params:
          encrypt.kek.name: other-kek
          encrypt.dek.algorithm: AES256_SIV
`;
    const out = await problems(job({ secondRule: second }));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^job0\.yaml:25:\d+: .*domainRules\[1\]\.params.*rules encryptIds and encryptMore write with different KEKs.*expected one encrypt\.kek\.name/);
  });

  it('a read-only ENCRYPT rule does not write with the group and is not checked', async () => {
    const second = `      - name: readOld
        type: ENCRYPT
        mode: READ
        tags: [OLD]
        params:
          encrypt.kek.name: old-kek
`;
    expect(await problems(job({ secondRule: second }))).toEqual([]);
  });

  it('refuses repeated, empty or single subjects (schema), with their position', async () => {
    const repeated = await problems(job({ subjects: '[orders.siv-value, orders.siv-value]' }));
    expect(repeated.join('\n')).toMatch(/^job0\.yaml:13:\d+: .*spec\.target\.joinGroup\.subjects/m);
    expect(repeated.join('\n')).toMatch(/duplicate item \(expected distinct items\)/);
    const empty = await problems(job({ subjects: "[orders.siv-value, '']" }));
    expect(empty.join('\n')).toMatch(/^job0\.yaml:13:\d+: .*spec\.target\.joinGroup\.subjects\[1\]/m);
    const single = await problems(job({ subjects: '[orders.siv-value]' }));
    expect(single.join('\n')).toMatch(/^job0\.yaml:13:\d+: .*spec\.target\.joinGroup\.subjects.*(at least 2|2 items|fewer)/m);
  });

  it('refuses mode decrypt with a group', async () => {
    const out = await problems(job({ mode: 'decrypt', params: '' }).replace(/ {2}rules:[\s\S]*$/, ''));
    expect(out.join('\n')).toMatch(/^job0\.yaml:11:5: spec\.target\.joinGroup: mode decrypt writes no ciphertext/m);
  });

  it('refuses two jobs naming one group with different subjects', async () => {
    const out = await problems(
      job(),
      job({ name: 'customers-join', topic: 'customers', subjects: '[orders.siv-value, customers.siv-value, payments.siv-value]' }),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^job1\.yaml:13:\d+: .*join group customer-ids lists other subjects than at job0\.yaml:13:17 .*expected the same subjects/);
  });

  it('the same subjects in another order are the same group', async () => {
    expect(await problems(job(), job({ name: 'customers-join', topic: 'customers', subjects: '[customers.siv-value, orders.siv-value]' }))).toEqual([]);
  });
});

describe('spec.target.joinGroup at run time', () => {
  const planned = async (): Promise<Job> => {
    const result = await validateJobFiles(writeJobFiles({ 'job.yaml': job().replace(/ {2}rules:[\s\S]*$/, '') }));
    expect(result.problems).toEqual([]);
    return result.jobs[0]!;
  };

  it('checks the target schema rules, with params from the schema metadata', async () => {
    const j = await planned();
    const rule = { name: 'encryptIds', type: 'ENCRYPT', tags: ['JOIN_KEY'], params: { 'encrypt.kek.name': 'join-kek' } };
    const siv = { metadata: { properties: { 'encrypt.dek.algorithm': 'AES256_SIV' } }, ruleSet: { domainRules: [rule] } };
    expect(checkJoinGroupAgainstTarget(j, 'orders.siv-value', siv)).toEqual([]);
    const gcm = checkJoinGroupAgainstTarget(j, 'orders.siv-value', { ruleSet: { domainRules: [rule] } });
    expect(gcm).toHaveLength(1);
    expect(gcm[0]).toMatchObject({ code: 'JOB_INVALID', severity: 'error', path: 'spec.target.schema(ruleSet).domainRules[0].params', job: 'orders-join' });
    expect(gcm[0]!.message).toMatch(/default AES256_GCM/);
    const outsider = checkJoinGroupAgainstTarget(j, 'orders.other-value', siv);
    expect(outsider.map((p) => p.message)).toEqual(['the target subject orders.other-value is not in join group customer-ids']);
  });
});
