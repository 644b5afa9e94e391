import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProblems, isSecretKey, SECRET_REASON, validateJobFiles } from '../../../src/jobs/index.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

const SECRET = 'Sup3r-S3cret-Value-4711';

async function outputsFor(yaml: string): Promise<{ text: string; problems: Awaited<ReturnType<typeof validateJobFiles>>['problems'] }> {
  const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
  const result = await validateJobFiles([file]);
  return { text: `${formatProblems(result.problems).join('\n')}\n${JSON.stringify(result)}`, problems: result.problems };
}

describe('secrets in job files', () => {
  it.each([
    'secret',
    'password',
    'token',
    'client.secret',
    'access.key',
    'secret.access.key',
    'aws.secret.access.key',
    'sasl.jaas.config',
    'hcvault.token',
    'gcp.private.key',
    'azure.client.secret',
    'local.secret',
    'MyCredentials',
    'basic.auth.user.info',
  ])('%s looks like a secret', (key) => expect(isSecretKey(key)).toBe(true));

  it.each(['encrypt.kek.name', 'encrypt.kms.key.id', 'encrypt.kms.type', 'encrypt.dek.algorithm', 'team', 'dlq.topic'])(
    '%s does not',
    (key) => expect(isSecretKey(key)).toBe(false),
  );

  it('a secret in rule params is an error with position and reason, and its value is never printed', async () => {
    const yaml = VALID_JOB.replace('          encrypt.kek.name: pii-kek\n', `          encrypt.kek.name: pii-kek\n          aws.secret.access.key: ${SECRET}\n`);
    const { text, problems } = await outputsFor(yaml);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: 'JOB_UNSAFE',
      line: 18,
      column: 11,
      path: 'spec.rules.domainRules[0].params["aws.secret.access.key"]',
    });
    expect(problems[0]?.message).toContain(SECRET_REASON);
    expect(text).not.toContain(SECRET);
  });

  it('a secret under an unknown key (typo or invented field) is reported too, value never printed', async () => {
    const yaml = VALID_JOB.replace('  mode: encrypt\n', `  mode: encrypt\n  kms:\n    password: ${SECRET}\n`);
    const { text, problems } = await outputsFor(yaml);
    expect(problems.map((p) => [p.path, p.line, p.column, p.code])).toEqual([
      ['spec.kms', 7, 3, 'JOB_INVALID'],
      ['spec.kms.password', 8, 5, 'JOB_UNSAFE'],
    ]);
    expect(text).not.toContain(SECRET);
  });

  it('a PEM private key anywhere is an error, never printed', async () => {
    const pem = `-----BEGIN PRIVATE KEY-----${SECRET}-----END PRIVATE KEY-----`;
    const yaml = VALID_JOB.replace('metadata:\n', `metadata:\n  labels:\n    note: '${pem}'\n`);
    const { text, problems } = await outputsFor(yaml);
    expect(problems.map((p) => [p.path, p.line, p.code])).toEqual([['metadata.labels.note', 5, 'JOB_UNSAFE']]);
    expect(text).not.toContain(SECRET);
  });

  it('a secret on a line with a YAML syntax error is not echoed', async () => {
    const yaml = VALID_JOB.replace('          encrypt.kek.name: pii-kek\n', `          encrypt.kek.name: pii-kek\n          client.secret: "${SECRET}\n`);
    const { text, problems } = await outputsFor(yaml);
    expect(problems.length).toBeGreaterThan(0);
    expect(text).not.toContain(SECRET);
  });

  it('property: whatever the secret value and wherever it sits, it never appears in the output', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9+/=_-]{12,40}$/),
        fc.constantFrom('client.secret', 'password', 'sasl.jaas.config', 'hcvault.token', 'gcp.private.key'),
        fc.constantFrom('params', 'labels', 'source'),
        async (value, key, where) => {
          const line = `${key}: '${value}'`;
          const yaml =
            where === 'params'
              ? VALID_JOB.replace('          encrypt.kek.name: pii-kek\n', `          encrypt.kek.name: pii-kek\n          ${line}\n`)
              : where === 'labels'
                ? VALID_JOB.replace('metadata:\n', `metadata:\n  labels:\n    ${line}\n`)
                : VALID_JOB.replace('    topic: customers\n', `    topic: customers\n    ${line}\n`);
          const { text, problems } = await outputsFor(yaml);
          expect(problems.some((p) => p.code === 'JOB_UNSAFE')).toBe(true);
          expect(text).not.toContain(value);
        },
      ),
      { numRuns: 40 },
    );
  });
});
