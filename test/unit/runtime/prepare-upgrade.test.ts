// target.upgrade: latest (JSONata migrations, issue #25): prepareJob refuses a target schema that is not
// the source subject's latest version, a pinned target version, and a source subject whose migration
// rules do not compile, before anything is registered. Against an in-process dev registry; no Kafka.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { loadText } from '../../../src/jobs/load.js';
import type { Job } from '../../../src/jobs/index.js';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import type { Rule, RuleSet } from '../../../src/registry/types.js';
import { createJobRuntime, prepareJob, type RuntimeConfig } from '../../../src/runtime/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { silentLogger } from '../../../src/util/logger.js';

const SECRET = 'prepare-upgrade-secret';
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

const schema = (field: string) => JSON.stringify({
  type: 'record', name: 'Order', fields: [{ name: field, type: 'int' }, { name: 'email', type: 'string', 'confluent:tags': ['PII'] }],
});
const encrypted = (kek: string): RuleSet['domainRules'] => [{
  name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
  params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'key-a' },
}];
const upgrade = (expr: string): Rule => ({ name: 'sizeToHeight', kind: 'TRANSFORM', type: 'JSONATA', mode: 'UPGRADE', expr });

async function subjectWith(topic: string, expr: string): Promise<void> {
  await client.register(`${topic}-value`, { schemaType: 'AVRO', schema: schema('size'), ruleSet: { domainRules: encrypted(`${topic}-kek`) } });
  await client.register(`${topic}-value`, { schemaType: 'AVRO', schema: schema('height'), ruleSet: { domainRules: encrypted(`${topic}-kek`), migrationRules: [upgrade(expr)] } });
}

function job(topic: string, subject: string | undefined): Job {
  const { documents, problems } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: upgrade-${topic} }
spec:
  mode: reencrypt
  source: { topic: ${topic} }
  target: { topic: ${topic}.v2, upgrade: latest${subject === undefined ? '' : `, subject: "${subject}"`} }
`);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return documents[0]!.job!;
}

async function refusal(work: Promise<unknown>): Promise<RecryptError> {
  const err = await work.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RecryptError);
  return err as RecryptError;
}

describe('prepareJob with target.upgrade: latest', () => {
  it('refuses a target subject whose schema is not the latest version of the source subject', async () => {
    await subjectWith('up-a', "$merge([$, {'height': $.size}])");
    await client.register('up-a.v2-value', { schemaType: 'AVRO', schema: schema('size'), ruleSet: { domainRules: encrypted('up-a-kek2') } });
    const err = await refusal(prepareJob(createJobRuntime(config, job('up-a', undefined), { logger: silentLogger })));
    expect(err.code).toBe('JOB_UNSAFE');
    expect(err.message).toContain('the schema of up-a.v2-value is not the latest version (2) of up-a-value');
  });

  it('prepares a route onto another subject that holds the source subject\'s latest schema', async () => {
    await subjectWith('up-d', "$merge([$, {'height': $.size}])");
    await client.register('up-d.v2-value', { schemaType: 'AVRO', schema: schema('height'), ruleSet: { domainRules: encrypted('up-d-kek2') } });
    const prepared = await prepareJob(createJobRuntime(config, job('up-d', undefined), { logger: silentLogger }));
    expect(prepared.routes.get('up-d')?.targetSubject).toBe('up-d.v2-value');
  });

  it('refuses target.schema other than latest', async () => {
    await subjectWith('up-e', "$merge([$, {'height': $.size}])");
    const j = job('up-e', '{topic}-value');
    const pinned = { ...j, spec: { ...j.spec, target: { ...j.spec.target, schema: 1 } } } as Job;
    const err = await refusal(prepareJob(createJobRuntime(config, pinned, { logger: silentLogger })));
    expect(err.code).toBe('JOB_INVALID');
    expect(err.message).toContain('target.upgrade: latest needs target.schema latest');
  });

  it('refuses a subject whose migration rule does not compile, naming subject, version, rule and the parser message', async () => {
    await subjectWith('up-b', "$merge([$, {'height': $.size}]");
    const err = await refusal(prepareJob(createJobRuntime(config, job('up-b', '{topic}-value'), { logger: silentLogger })));
    expect(err.code).toBe('JOB_UNSAFE');
    expect(err.message).toMatch(/subject up-b-value version 2 migration rule sizeToHeight: JSONata does not compile: S0\d+/);
  });

  it('prepares a route onto the latest version of the source subject (the control)', async () => {
    await subjectWith('up-c', "$merge([$, {'height': $.size}])");
    const prepared = await prepareJob(createJobRuntime(config, job('up-c', '{topic}-value'), { logger: silentLogger }));
    const route = prepared.routes.get('up-c');
    expect(route?.targetSubject).toBe('up-c-value');
    expect(route?.targetSchema.info.version).toBe(2);
  });
});
