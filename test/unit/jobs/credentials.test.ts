/**
 * Credentials wherever they sit in a job file, not only under secret-looking keys: a URL with
 * user:password@, a Vault token in a label, LOCAL_SECRET=... in a doc string, AWS keys, private keys,
 * bearer tokens, JWTs. Each is refused with file:line:column and the path, never the value; normal
 * values (ARNs, key ids, topic names, URLs without credentials) are not.
 */
import { describe, expect, it } from 'vitest';
import { formatProblems, validateJobFiles } from '../../../src/jobs/index.js';
import { credentialIn, CREDENTIAL_PATTERN, CREDENTIAL_PATTERNS, isSecretKey, SECRET_KEY_PATTERN } from '../../../src/jobs/credential-patterns.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

// Made-up values in the shapes of real credentials (none is a live secret).
const AWS_KEY_ID = 'AKIAZ7QX4MVB2KD3PLWN';
const AWS_SECRET = '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';
const VAULT_TOKEN = 'hvs.CAESIKq3Zt9vXb2Lm8Nc4Rw7Yp1Hd6Fs0Jg5Te';
const VAULT_LEGACY = 's.Qz7Kp2Xv9Lm4Nb8Rc3Wt6Yh1';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWNyeXB0In0.Zk3Xq9Lm2Vb7Nc4Rt8Wy1Hp6Sd0Fg5Jk';
const PASSWORD = 'Pw-7Zq2Xv9Lm4';
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';

describe('credentialIn: what a value holds', () => {
  it.each([
    ['a URL with a password (user:password@)', `https://svc:${PASSWORD}@registry.example.com:8081`],
    ['a URL with a password (user:password@)', `redis://:${PASSWORD}@redis:6379/0`],
    ['a URL with a password (user:password@)', `see http://admin:${PASSWORD}@10.0.0.1/ui for details`],
    ['a secret assignment (NAME=value)', `run with LOCAL_SECRET=${PASSWORD} set`],
    ['a secret assignment (NAME=value)', `org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="${PASSWORD}";`],
    ['a secret assignment (NAME=value)', `export VAULT_TOKEN='${PASSWORD}'`],
    ['an AWS access key id', AWS_KEY_ID],
    ['an AWS access key id', `key ${AWS_KEY_ID} rotated`],
    ['an AWS secret access key', `aws_secret_access_key: ${AWS_SECRET}`],
    ['an AWS secret access key', `"SecretAccessKey": "${AWS_SECRET}"`],
    ['a Vault token', VAULT_TOKEN],
    ['a Vault token', `token ${VAULT_LEGACY}`],
    ['a private key', `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`],
    ['a private key', `-----BEGIN OPENSSH PRIVATE KEY-----${PEM_BODY}`],
    ['a bearer token', `Authorization: Bearer ${PEM_BODY.slice(0, 32)}`],
    ['a JSON Web Token', JWT],
  ])('%s: %s', (what, value) => expect(credentialIn(value)).toBe(what));

  it.each([
    'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000',
    'arn:aws:kms:eu-west-1:111122223333:alias/recrypt-pii',
    'arn:aws:iam::111122223333:role/recrypt',
    'projects/p/locations/global/keyRings/r/cryptoKeys/k',
    'https://vault.example.com:8200/transit/keys/pii',
    'azure-kms://recrypt.vault.azure.net/keys/pii/0123456789abcdef0123456789abcdef',
    '00000000-0000-0000-0000-000000000000',
    'customers.enc',
    '^legacy\\.[a-z0-9_-]+$',
    '{topic}.dlq',
    'https://schema-registry-0:8081,https://schema-registry-1:8081',
    'https://svc@registry.example.com',
    'redis://redis:6379/0',
    'mailto:ops@example.com',
    'kafka-0.kafka:9093',
    'Encrypt every field tagged PII; the KMS password and token come from the environment.',
    'set LOCAL_SECRET=... or LOCAL_SECRET_FILE',
    'password=${KAFKA_PASSWORD}',
    'token=<your token>',
    'Bearer tokens come from SCHEMA_REGISTRY_BEARER_TOKEN_FILE',
    'hvs.short',
    'AKIA-not-a-key',
    '-----BEGIN CERTIFICATE-----MIIB',
    'eyJhbGciOiJIUzI1NiJ9',
    'a'.repeat(40),
  ])('no credential: %s', (value) => expect(credentialIn(value)).toBeUndefined());

  it('the patterns avoid what Go RE2 lacks (helm validates values.schema.json with Go regexp)', () => {
    for (const source of [SECRET_KEY_PATTERN, CREDENTIAL_PATTERN, ...CREDENTIAL_PATTERNS.map((p) => p.source)]) {
      expect(source).not.toMatch(/\(\?[=!<]|\\[1-9]|\\k</);
      expect(() => new RegExp(source, 'u')).not.toThrow();
    }
    expect(isSecretKey('AWS_SECRET_ACCESS_KEY')).toBe(true);
    expect(isSecretKey('Vault Token')).toBe(true);
    expect(isSecretKey('encrypt.kms.key.id')).toBe(false);
  });
});

async function check(yaml: string, secret: string): Promise<Array<[string, number | undefined, number | undefined, string]>> {
  const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
  const result = await validateJobFiles([file]);
  const text = `${formatProblems(result.problems).join('\n')}\n${JSON.stringify(result)}`;
  expect(text).not.toContain(secret);
  expect(result.ok).toBe(false);
  return result.problems.map((p) => [p.path, p.line, p.column, `${p.code} ${p.message}`]);
}

function edit(from: string, to: string): string {
  if (!VALID_JOB.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return VALID_JOB.replace(from, to);
}

const REASON = 'secrets come from env or mounted files, never from job YAML';

describe('job files: credentials anywhere are refused with file:line:column and path, never the value', () => {
  it('a Vault token in a label', async () => {
    const yaml = edit('metadata:\n', `metadata:\n  labels:\n    owner: team-a\n    note: ${VAULT_TOKEN}\n`);
    expect(await check(yaml, VAULT_TOKEN)).toEqual([['metadata.labels.note', 6, 11, `JOB_UNSAFE holds a Vault token: ${REASON}`]]);
  });

  it('LOCAL_SECRET=... in a rule doc string', async () => {
    const yaml = edit('        type: ENCRYPT\n', `        doc: "Run it with LOCAL_SECRET=${PASSWORD} exported"\n        type: ENCRYPT\n`);
    expect(await check(yaml, PASSWORD)).toEqual([['spec.rules.domainRules[0].doc', 14, 14, `JOB_UNSAFE holds a secret assignment (NAME=value): ${REASON}`]]);
  });

  it('a URL with user:password@ in a rule param', async () => {
    const yaml = edit('          encrypt.kek.name: pii-kek\n', `          encrypt.kek.name: pii-kek\n          encrypt.kms.key.id: https://svc:${PASSWORD}@vault.example.com:8200/transit/keys/pii\n`);
    expect(await check(yaml, PASSWORD)).toEqual([['spec.rules.domainRules[0].params["encrypt.kms.key.id"]', 18, 31, `JOB_UNSAFE holds a URL with a password (user:password@): ${REASON}`]]);
  });

  it('an AWS access key id, and a secret key in a multi-line doc, each reported', async () => {
    const yaml = edit('        type: ENCRYPT\n', `        doc: |\n          Rotated on Monday.\n          aws_secret_access_key = ${AWS_SECRET}\n        type: ENCRYPT\n`)
      .replace('          encrypt.kek.name: pii-kek\n', `          encrypt.kek.name: pii-kek\n          encrypt.kms.key.id: ${AWS_KEY_ID}\n`);
    const problems = await check(yaml, AWS_SECRET);
    expect(problems).toEqual([
      ['spec.rules.domainRules[0].doc', 14, 14, `JOB_UNSAFE holds an AWS secret access key: ${REASON}`],
      ['spec.rules.domainRules[0].params["encrypt.kms.key.id"]', 21, 31, `JOB_UNSAFE holds an AWS access key id: ${REASON}`],
    ]);
    expect(JSON.stringify(problems)).not.toContain(AWS_KEY_ID);
  });

  it('a JWT, a bearer token and a private key in labels and params', async () => {
    const pem = `-----BEGIN EC PRIVATE KEY-----${PEM_BODY}-----END EC PRIVATE KEY-----`;
    const yaml = edit('metadata:\n', `metadata:\n  labels:\n    jwt: ${JWT}\n    auth: "Bearer ${PEM_BODY}"\n`)
      .replace('          encrypt.kek.name: pii-kek\n', `          encrypt.kek.name: pii-kek\n          encrypt.kms.note: '${pem}'\n`);
    const problems = await check(yaml, PEM_BODY);
    expect(problems.map((p) => p.slice(0, 3))).toEqual([
      ['metadata.labels.jwt', 5, 10],
      ['metadata.labels.auth', 6, 11],
      ['spec.rules.domainRules[0].params["encrypt.kms.note"]', 21, 29],
    ]);
    expect(problems.map((p) => p[3].split(':')[0])).toEqual(['JOB_UNSAFE holds a JSON Web Token', 'JOB_UNSAFE holds a bearer token', 'JOB_UNSAFE holds a private key']);
    expect(JSON.stringify(problems)).not.toContain(JWT);
  });

  it('a credential in a key is reported at the key, the path stops before it', async () => {
    const yaml = edit('metadata:\n', `metadata:\n  labels:\n    "redis://:${PASSWORD}@redis:6379": x\n`);
    expect(await check(yaml, PASSWORD)).toEqual(expect.arrayContaining([['metadata.labels', 5, 5, `JOB_UNSAFE a key holds a URL with a password (user:password@): ${REASON}`]]));
  });

  it('normal values pass: ARNs, key ids, URLs without credentials, topic names, docs that mention secrets', async () => {
    const yaml = edit('metadata:\n', 'metadata:\n  labels:\n    registry: https://svc@registry.example.com:8081\n    vault: https://vault.example.com:8200\n')
      .replace('        type: ENCRYPT\n', '        doc: The KMS password and token come from the environment (LOCAL_SECRET=... or LOCAL_SECRET_FILE).\n        type: ENCRYPT\n')
      .replace('          encrypt.kek.name: pii-kek\n', '          encrypt.kek.name: pii-kek\n          encrypt.kms.type: aws-kms\n          encrypt.kms.key.id: arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000\n');
    const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
    const result = await validateJobFiles([file]);
    expect(formatProblems(result.problems)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
