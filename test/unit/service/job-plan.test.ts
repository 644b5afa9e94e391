// `recrypt plan` shows a job's join group (issue #23): the route names the group, its sorted subjects,
// the anchor where its DEKs are created and the DEK scope; each encrypting step notes the shared DEK,
// and a target schema the group cannot use is a problem. Against an in-process dev registry; no Kafka
// (the topics' size-limit comparison, plan's one Kafka call, answers nothing).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import type { Job } from '../../../src/jobs/index.js';
import { loadText } from '../../../src/jobs/load.js';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import { loadServiceConfig, type ServiceConfig } from '../../../src/service/config.js';
import { planJob } from '../../../src/service/job-plan.js';

vi.mock('../../../src/runtime/topic-limits.js', async (original) => ({
  ...(await original<typeof import('../../../src/runtime/topic-limits.js')>()),
  sizeLimitProblems: () => Promise.resolve([]),
}));

const SECRET = 'plan-test-secret';
let registry: DevRegistry;
let client: SchemaRegistryClient;
let config: ServiceConfig;
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: SECRET });
  client = new SchemaRegistryClient({ baseUrls: [registry.url], latestTtlMs: 0 });
  config = loadServiceConfig({ SCHEMA_REGISTRY_URL: registry.url, KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1', LOCAL_SECRET: SECRET });
});
afterAll(async () => { await registry.close(); });

const SCHEMA = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'customer', type: 'string', 'confluent:tags': ['JOIN_KEY'] }] });

function job(algorithm: string): Job {
  const { documents } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: orders-join }
spec:
  mode: encrypt
  source: { topic: plan-orders }
  target:
    topic: plan-orders.siv
    joinGroup: { name: customer-ids, subjects: [plan-orders.siv-value, plan-customers.siv-value] }
  rules:
    domainRules:
      - name: encryptIds
        type: ENCRYPT
        tags: [JOIN_KEY]
        params: { encrypt.kek.name: plan-kek, encrypt.kms.type: local-kms, encrypt.kms.key.id: key-a, encrypt.dek.algorithm: ${algorithm} }
        onFailure: ERROR,ERROR
`);
  return documents[0]!.job!;
}

describe('plan with a join group', () => {
  it('shows the group, its anchor and the shared DEK on the encrypting step', async () => {
    await client.register('plan-orders-value', { schemaType: 'AVRO', schema: SCHEMA });
    const [route] = await planJob(job('AES256_SIV'), config);
    expect(route?.joinGroup).toEqual({
      name: 'customer-ids', subjects: ['plan-customers.siv-value', 'plan-orders.siv-value'], anchor: 'plan-customers.siv-value', scope: 'join-group:customer-ids',
    });
    expect(route?.encrypt).toHaveLength(1);
    expect(route?.encrypt[0]).toMatchObject({ rule: 'encryptIds', kek: 'plan-kek', algorithm: 'AES256_SIV', fields: ['Order.customer'] });
    expect(route?.encrypt[0]?.note).toBe(
      'DEK shared by join group customer-ids: created at plan-customers.siv-value (anchor), registered under plan-customers.siv-value, plan-orders.siv-value',
    );
    expect(route?.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('reports a target rule the group cannot share as an error', async () => {
    // Validation refuses this job file too; plan checks the rules as the target subject would carry them.
    const [route] = await planJob(job('AES256_GCM'), config);
    const errors = route?.problems.filter((p) => p.severity === 'error') ?? [];
    expect(errors.map((p) => p.path)).toEqual(['spec.target.schema(ruleSet).domainRules[0].params["encrypt.dek.algorithm"]']);
    expect(errors[0]?.message).toContain('needs the deterministic AES256_SIV');
  });

  it('reports a subject of the group that holds its own DEK (JOIN_GROUP_DIVERGED), reading only', async () => {
    const dekClient = new DekRegistryClient({ baseUrls: [registry.url] });
    await dekClient.createKek({ name: 'plan-kek', kmsType: 'local-kms', kmsKeyId: 'key-a', shared: true });
    await dekClient.createDek('plan-kek', { subject: 'plan-orders.siv-value', version: 1, algorithm: 'AES256_SIV' });
    const [route] = await planJob(job('AES256_SIV'), config);
    const errors = route?.problems.filter((p) => p.severity === 'error') ?? [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: 'spec.target.joinGroup', code: 'JOB_INVALID' });
    expect(errors[0]?.message).toMatch(/^JOIN_GROUP_DIVERGED: subject plan-orders\.siv-value holds DEK version 1 of KEK plan-kek \(AES256_SIV\) while the anchor subject has none yet/);
    expect(await dekClient.getDek('plan-kek', 'plan-customers.siv-value', 1, 'AES256_SIV')).toBeNull();
  });
});

describe('plan with keys: rules', () => {
  function keysJob(source: string): Job {
    const { documents } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: keys-plan }
spec:
  mode: encrypt
  keys: rules
  source: { topic: ${source} }
  target: { topic: ${source}.enc }
  rules:
    domainRules:
      - name: encryptIds
        type: ENCRYPT
        tags: [JOIN_KEY]
        params: { encrypt.kek.name: plan-keys-kek, encrypt.kms.type: local-kms, encrypt.kms.key.id: key-a }
        onFailure: ERROR,ERROR
`);
    return documents[0]!.job!;
  }

  it('names the key subjects, and reports the ones without a schema as `run` would refuse them', async () => {
    await client.register('plan-keyless-value', { schemaType: 'AVRO', schema: SCHEMA });
    const [route] = await planJob(keysJob('plan-keyless'), config);
    expect(route?.keySubjects).toEqual({ source: 'plan-keyless-key', target: 'plan-keyless.enc-key' });
    const errors = (route?.problems ?? []).filter((p) => p.severity === 'error').map((p) => p.message);
    expect(errors).toEqual(expect.arrayContaining([
      expect.stringContaining('source key subject plan-keyless-key has no schema'),
      expect.stringContaining('target key subject plan-keyless.enc-key has no schema'),
    ]));
  });
});

describe('plan with CEL rules beside ENCRYPT', () => {
  it('describes a CEL condition and a CEL_FIELD transform as steps it runs, with the fields the transform rewrites', async () => {
    const schema = JSON.stringify({
      type: 'record', name: 'Payment', fields: [
        { name: 'amount', type: 'double' },
        { name: 'card', type: 'string', 'confluent:tags': ['PII'] },
        { name: 'note', type: 'string' },
      ],
    });
    await client.register('plan-payments-value', { schemaType: 'AVRO', schema });
    const { documents } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: payments-cel }
spec:
  mode: encrypt
  source: { topic: plan-payments }
  target: { topic: plan-payments.enc }
  rules:
    domainRules:
      - { name: positive, type: CEL, kind: CONDITION, mode: WRITE, expr: "message.amount > 0.0", onFailure: ERROR }
      - { name: maskCard, type: CEL_FIELD, kind: TRANSFORM, mode: WRITE, tags: [PII], expr: "typeName == 'STRING' ; value + ''" }
      - name: encryptPii
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: plan-kek-cel, encrypt.kms.type: local-kms, encrypt.kms.key.id: key-a }
        onFailure: ERROR,ERROR
`);
    const [route] = await planJob(documents[0]!.job!, config);
    expect(route?.encrypt.map((s) => [s.rule, s.type, s.fields])).toEqual([
      ['positive', 'CEL', ['(whole record)']],
      ['maskCard', 'CEL_FIELD', ['Payment.card']],
      ['encryptPii', 'ENCRYPT', ['Payment.card']],
    ]);
    for (const step of route?.encrypt ?? []) expect(step.note ?? '').not.toMatch(/does not execute/);
  });
});
