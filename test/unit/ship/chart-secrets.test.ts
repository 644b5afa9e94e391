/**
 * Credentials are never chart values. values.schema.json refuses a secret wherever the chart would
 * render it inline (kafka SASL password and librdkafka secret properties, registry basic auth or bearer
 * token, LOCAL_SECRET, AWS/Azure/GCP/Vault credentials, a Redis password, a URL with user:password@,
 * a job carrying a credential), at `helm template` and `helm lint --strict`, without echoing it; the
 * same values written as references to Kubernetes Secrets render secretKeyRef env or mounted files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ROOT, findTool, run, titled } from './tools.js';

const CHART = join(ROOT, 'helm/recrypt');
const helm = findTool('helm');
const work = mkdtempSync(join(tmpdir(), 'recrypt-chart-secrets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Made-up values in the shapes of real credentials.
const PASSWORD = 'Pw-7Zq2Xv9Lm4';
const AWS_KEY_ID = 'AKIAZ7QX4MVB2KD3PLWN';
const AWS_SECRET = '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';
const VAULT_TOKEN = 'hvs.CAESIKq3Zt9vXb2Lm8Nc4Rw7Yp1Hd6Fs0Jg5Te';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';

const JOB = {
  spec: {
    mode: 'encrypt',
    source: { topic: 'customers' },
    target: { topic: 'customers.enc' },
    rules: { domainRules: [{ name: 'encryptPII', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'pii-kek', 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000' } }] },
  },
};
const withJob = (edit: (job: typeof JOB) => void): unknown => {
  const job = structuredClone(JOB);
  edit(job);
  return { jobs: { 'customers-backfill': job } };
};

function helmWith(values: unknown, command: 'template' | 'lint'): { status: number | null; output: string; stdout: string } {
  const file = join(mkdtempSync(join(work, 'values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  const args = command === 'template' ? ['template', 'recrypt', CHART, '--namespace', 'data', '-f', file] : ['lint', '--strict', CHART, '-f', file];
  const out = run(helm.path!, args);
  return { status: out.status, output: out.stdout + out.stderr, stdout: out.stdout };
}

/** [what, values, the secret that must not be echoed, where the error points] */
const REFUSED: ReadonlyArray<[string, unknown, string, RegExp]> = [
  ['kafka.sasl.password inline', { kafka: { sasl: { password: PASSWORD } } }, PASSWORD, /\/kafka\/sasl.*'password' not allowed/],
  ['kafka.properties sasl.password', { kafka: { properties: { 'sasl.password': PASSWORD } } }, PASSWORD, /'sasl\.password'/],
  ['kafka.properties ssl.key.password', { kafka: { properties: { 'ssl.key.password': PASSWORD } } }, PASSWORD, /'ssl\.key\.password'/],
  ['kafka.properties sasl.jaas.config', { kafka: { properties: { 'sasl.jaas.config': `PlainLoginModule required username="u" password="${PASSWORD}";` } } }, PASSWORD, /'sasl\.jaas\.config'/],
  ['kafka.properties sasl.oauthbearer.client.secret', { kafka: { properties: { 'sasl.oauthbearer.client.secret': PASSWORD } } }, PASSWORD, /'sasl\.oauthbearer\.client\.secret'/],
  ['kafka.properties ssl.key.pem (a private key)', { kafka: { properties: { 'ssl.key.pem': PEM } } }, 'MIIEvQIBADANBg', /\/kafka\/properties\/ssl\.key\.pem': 'not' failed/],
  ['schemaRegistry.url with user:password@', { schemaRegistry: { url: `https://svc:${PASSWORD}@registry:8081` } }, PASSWORD, /\/schemaRegistry\/url': 'not' failed/],
  ['schemaRegistry.auth basic auth inline', { schemaRegistry: { auth: { basicAuth: `svc:${PASSWORD}` } } }, PASSWORD, /'basicAuth' not allowed/],
  ['env SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO', { env: { SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: `svc:${PASSWORD}` } }, PASSWORD, /'SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO'/],
  ['env SCHEMA_REGISTRY_BEARER_TOKEN', { env: { SCHEMA_REGISTRY_BEARER_TOKEN: PASSWORD } }, PASSWORD, /'SCHEMA_REGISTRY_BEARER_TOKEN'/],
  ['env LOCAL_SECRET', { env: { LOCAL_SECRET: PASSWORD } }, PASSWORD, /'LOCAL_SECRET'/],
  ['env AWS_SECRET_ACCESS_KEY', { env: { AWS_SECRET_ACCESS_KEY: AWS_SECRET } }, AWS_SECRET, /'AWS_SECRET_ACCESS_KEY'/],
  ['env AWS_ACCESS_KEY_ID', { env: { AWS_ACCESS_KEY_ID: AWS_KEY_ID } }, AWS_KEY_ID, /'AWS_ACCESS_KEY_ID'/],
  ['env AWS_SESSION_TOKEN', { env: { AWS_SESSION_TOKEN: PASSWORD } }, PASSWORD, /'AWS_SESSION_TOKEN'/],
  ['env AZURE_CLIENT_SECRET', { env: { AZURE_CLIENT_SECRET: PASSWORD } }, PASSWORD, /'AZURE_CLIENT_SECRET'/],
  ['env GCP credentials JSON', { env: { GCP_CREDENTIALS_JSON: `{"private_key":"${PEM}"}` } }, 'MIIEvQIBADANBg', /'GCP_CREDENTIALS_JSON'/],
  ['env VAULT_TOKEN', { env: { VAULT_TOKEN } }, VAULT_TOKEN, /'VAULT_TOKEN'/],
  ['env VAULT_APPROLE_SECRET_ID', { env: { VAULT_APPROLE_SECRET_ID: PASSWORD } }, PASSWORD, /'VAULT_APPROLE_SECRET_ID'/],
  ['env REDIS_PASSWORD', { env: { REDIS_PASSWORD: PASSWORD } }, PASSWORD, /'REDIS_PASSWORD'/],
  ['a Vault token under an innocent env name', { env: { VAULT_NAMESPACE: VAULT_TOKEN } }, VAULT_TOKEN, /\/env\/VAULT_NAMESPACE': 'not' failed/],
  ['redis.url with a password', { redis: { url: `redis://:${PASSWORD}@redis:6379` } }, PASSWORD, /\/redis\/url': 'not' failed/],
  ['extraEnv LOCAL_SECRET with value', { extraEnv: [{ name: 'LOCAL_SECRET', value: PASSWORD }] }, PASSWORD, /\/extraEnv\/0': 'not' failed/],
  ['extraEnv an AWS key id under any name', { extraEnv: [{ name: 'KEY', value: AWS_KEY_ID }] }, AWS_KEY_ID, /\/extraEnv\/0\/value': 'not' failed/],
  ['a pod annotation holding a Vault token', { podAnnotations: { note: VAULT_TOKEN } }, VAULT_TOKEN, /\/podAnnotations\/note': 'not' failed/],
  ['a job with aws.secret.access.key', withJob((j) => { (j.spec.rules.domainRules[0]!.params as Record<string, string>)['aws.secret.access.key'] = AWS_SECRET; }), AWS_SECRET, /\/jobs\/customers-backfill\/spec\/rules\/domainRules\/0\/params\/aws\.secret\.access\.key': 'not' failed/],
  ['a job with a Vault token in a label', withJob((j) => { (j as { metadata?: unknown }).metadata = { labels: { note: VAULT_TOKEN } }; }), VAULT_TOKEN, /\/jobs\/customers-backfill\/metadata\/labels\/note': 'not' failed/],
  ['a job with LOCAL_SECRET= in a doc string', withJob((j) => { (j.spec.rules.domainRules[0] as { doc?: string }).doc = `run with LOCAL_SECRET=${PASSWORD}`; }), PASSWORD, /\/jobs\/customers-backfill\/spec\/rules\/domainRules\/0\/doc': 'not' failed/],
];

describe(titled('helm chart: credentials are never values', helm), () => {
  it.skipIf(helm.missing).each(REFUSED)('refuses %s (helm template and helm lint --strict), without echoing it', (_what, values, secret, where) => {
    const template = helmWith(values, 'template');
    expect(template.status, template.output).not.toBe(0);
    expect(template.output).toMatch(/values don't meet the specifications of the schema/);
    expect(template.output).toMatch(where);
    expect(template.output).not.toContain(secret);
    const lint = helmWith(values, 'lint');
    expect(lint.status, lint.output).not.toBe(0);
    expect(lint.output).toMatch(where);
    expect(lint.output).not.toContain(secret);
  });

  it.skipIf(helm.missing)('references to Secrets render secretKeyRef env and mounted files; plain values that are no secret pass', () => {
    const values = {
      kafka: {
        bootstrapServers: 'kafka-0.kafka:9093',
        properties: { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'OAUTHBEARER', 'sasl.oauthbearer.token.endpoint.url': 'https://idp.example.com/oauth2/token', 'ssl.ca.location': '/var/run/secrets/recrypt/kafka-tls/ca.crt' },
        sasl: { existingSecret: 'kafka-sasl', usernameKey: 'user', passwordKey: 'pass' },
      },
      schemaRegistry: { url: 'https://svc@registry:8081,https://registry-1:8081', auth: { existingSecret: 'registry', basicAuthKey: 'user-info', bearerTokenKey: 'token' } },
      redis: { existingSecret: 'redis', urlKey: 'url' },
      kms: {
        existingSecret: 'kms',
        env: { AWS_ACCESS_KEY_ID: 'aws-access-key-id', AWS_SECRET_ACCESS_KEY: 'aws-secret-access-key', AZURE_CLIENT_SECRET: 'azure-client-secret', VAULT_TOKEN: 'vault-token', LOCAL_SECRET: 'local-secret' },
        files: { GOOGLE_APPLICATION_CREDENTIALS: 'gcp-key.json' },
      },
      env: { AWS_REGION: 'eu-west-1', VAULT_NAMESPACE: 'platform', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', AZURE_CLIENT_CERTIFICATE_PATH: '/var/run/azure/cert.pem' },
      extraEnv: [{ name: 'SCHEMA_REGISTRY_BEARER_TOKEN', valueFrom: { secretKeyRef: { name: 'registry', key: 'token' } } }],
      serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/recrypt' } },
      ...(withJob(() => undefined) as object),
    };
    const out = helmWith(values, 'template');
    expect(out.status, out.output).toBe(0);
    const lint = helmWith(values, 'lint');
    expect(lint.status, lint.output).toBe(0);
    expect(lint.output).not.toMatch(/\[(WARNING|ERROR)\]/);
    const docs = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as { kind: string; spec?: any } | null); // eslint-disable-line @typescript-eslint/no-explicit-any
    const pod = docs.find((d) => d?.kind === 'StatefulSet')!.spec.template.spec;
    const env = new Map<string, { value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>(pod.containers[0].env.map((e: { name: string }) => [e.name, e]));
    const ref = (name: string) => env.get(name)?.valueFrom?.secretKeyRef;
    expect(ref('KAFKA_SASL_USERNAME')).toEqual({ name: 'kafka-sasl', key: 'user' });
    expect(ref('REDIS_URL')).toEqual({ name: 'redis', key: 'url' });
    expect(ref('AWS_ACCESS_KEY_ID')).toEqual({ name: 'kms', key: 'aws-access-key-id' });
    expect(ref('AWS_SECRET_ACCESS_KEY')).toEqual({ name: 'kms', key: 'aws-secret-access-key' });
    expect(ref('AZURE_CLIENT_SECRET')).toEqual({ name: 'kms', key: 'azure-client-secret' });
    expect(ref('VAULT_TOKEN')).toEqual({ name: 'kms', key: 'vault-token' });
    expect(ref('LOCAL_SECRET')).toEqual({ name: 'kms', key: 'local-secret' });
    expect(ref('SCHEMA_REGISTRY_BEARER_TOKEN')).toEqual({ name: 'registry', key: 'token' });
    expect(env.get('KAFKA_SASL_PASSWORD_FILE')?.value).toBe('/var/run/secrets/recrypt/kafka-sasl/pass');
    expect(env.get('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE')?.value).toBe('/var/run/secrets/recrypt/schema-registry/user-info');
    expect(env.get('GOOGLE_APPLICATION_CREDENTIALS')?.value).toBe('/var/run/secrets/recrypt/kms/gcp-key.json');
    // No variable that names a credential carries a literal value (only *_FILE paths, URLs and references).
    for (const [name, e] of env) {
      if (/SECRET|PASSWORD|TOKEN|USER_INFO|ACCESS_KEY/.test(name) && !/_(FILE|PATH|URL)$/.test(name)) expect(e.value, name).toBeUndefined();
    }
    expect(docs.filter((d) => d?.kind === 'Secret')).toEqual([]);
  });
});
