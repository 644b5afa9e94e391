// Nothing is registered before the job has passed its safety checks (issue 22): prepareJob checks the
// job's rules as they would be registered, the source schemas and the KEKs' KMS keys for every topic,
// and only then puts the rules on the target subjects. Against an in-process dev registry; no Kafka
// (named source topics, and prepareJob does not touch records).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { loadText } from '../../../src/jobs/load.js';
import type { Job } from '../../../src/jobs/index.js';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import type { RuleSet } from '../../../src/registry/types.js';
import { createJobRuntime, prepareJob, type RuntimeConfig } from '../../../src/runtime/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { silentLogger } from '../../../src/util/logger.js';

const SECRET = 'prepare-test-secret';
let registry: DevRegistry;
let client: SchemaRegistryClient;
let config: RuntimeConfig;
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: SECRET });
  client = new SchemaRegistryClient({ baseUrls: [registry.url], latestTtlMs: 0 });
  config = {
    kafka: { bootstrapServers: '127.0.0.1:1', properties: {} },
    registry: { urls: [registry.url], timeoutMs: 5000 },
    kmsProps: { secret: SECRET }, instanceId: 'test', kmsTimeoutMs: 5000,
  };
});
afterAll(async () => { await registry.close(); });

const SCHEMA = JSON.stringify({
  type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'email', type: 'string', 'confluent:tags': ['PII'] }],
});
const ENCRYPTED: RuleSet = {
  domainRules: [{
    name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
    params: { 'encrypt.kek.name': 'prepare-old-kek', 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'old-key' },
  }],
};

function job(name: string, mode: string, topics: readonly string[]): Job {
  const { documents, problems } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: ${name} }
spec:
  mode: ${mode}
  source: { topics: [${topics.join(', ')}] }
  target: { topic: "{topic}.enc" }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${name}-kek, encrypt.kms.type: local-kms, encrypt.kms.key.id: key-a }
        onFailure: ERROR,ERROR
`);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return documents[0]!.job!;
}

async function versions(subject: string): Promise<number> {
  const latest = await client.getLatest(subject).catch((err: unknown) => {
    if (err instanceof RecryptError && err.code === 'REGISTRY_NOT_FOUND') return null;
    throw err;
  });
  return latest?.version ?? 0;
}

async function refusal(work: Promise<unknown>): Promise<RecryptError> {
  const err = await work.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RecryptError);
  return err as RecryptError;
}

describe('prepareJob registers nothing for an unsafe job', () => {
  it('reencrypt of a plaintext source: refused, no schema version on the target subject', async () => {
    await client.register('plain-a-value', { schemaType: 'AVRO', schema: SCHEMA });
    const err = await refusal(prepareJob(createJobRuntime(config, job('unsafe-one', 'reencrypt', ['plain-a']), { logger: silentLogger })));
    expect(err.code).toBe('JOB_UNSAFE');
    expect(err.message).toContain('plain-a -> plain-a.enc');
    expect(await versions('plain-a.enc-value')).toBe(0);
  });

  it('several topics: one unsafe topic refuses the job before any topic registers its rules', async () => {
    await client.register('enc-b-value', { schemaType: 'AVRO', schema: SCHEMA, ruleSet: ENCRYPTED });
    await client.register('plain-c-value', { schemaType: 'AVRO', schema: SCHEMA });
    const err = await refusal(prepareJob(createJobRuntime(config, job('unsafe-two', 'reencrypt', ['enc-b', 'plain-c']), { logger: silentLogger })));
    expect(err.code).toBe('JOB_UNSAFE');
    expect(err.message).toContain('plain-c -> plain-c.enc');
    expect(await versions('enc-b.enc-value')).toBe(0);
    expect(await versions('plain-c.enc-value')).toBe(0);
  });

  it('a safe job registers its rules on the target subject (the control)', async () => {
    await client.register('plain-d-value', { schemaType: 'AVRO', schema: SCHEMA });
    const prepared = await prepareJob(createJobRuntime(config, job('safe-one', 'encrypt', ['plain-d']), { logger: silentLogger }));
    expect([...prepared.routes.keys()]).toEqual(['plain-d']);
    expect(await versions('plain-d.enc-value')).toBe(1);
    expect((await client.getLatest('plain-d.enc-value')).ruleSet?.domainRules?.[0]?.params?.['encrypt.kek.name']).toBe('safe-one-kek');
  });
});
