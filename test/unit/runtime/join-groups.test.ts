// A job's join group (issue #23) in the runtime: the DekManager shares DEKs across the group, the write
// side's scope resolver maps member subjects to the group's scope, prepareJob refuses a target schema
// the group cannot use, and never prepares a route whose write plan would use a DEK per subject.
// Against an in-process dev registry; no Kafka.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { compileSide, encryptingSteps, SchemaStore } from '../../../src/engine/index.js';
import type { Job } from '../../../src/jobs/index.js';
import { loadText } from '../../../src/jobs/load.js';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import type { RuleSet } from '../../../src/registry/types.js';
import {
  assertWritesWithGroup, createJobRuntime, joinGroupsOf, joinGroupView, prepareJob, writeScopeOf, type RuntimeConfig,
} from '../../../src/runtime/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { silentLogger } from '../../../src/util/logger.js';

const SECRET = 'join-groups-test-secret';
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
  type: 'record', name: 'Order', fields: [{ name: 'customer', type: 'string', 'confluent:tags': ['JOIN_KEY'] }],
});
const GROUP_SUBJECTS = ['orders.siv-value', 'customers.siv-value'];

function groupJob(name: string, source: string, rules = true, subjects = GROUP_SUBJECTS): Job {
  const { documents, problems } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: ${name} }
spec:
  mode: encrypt
  source: { topic: ${source} }
  target:
    topic: ${source}.siv
    joinGroup: { name: customer-ids, subjects: [${subjects.join(', ')}] }
${rules ? `  rules:
    domainRules:
      - name: encryptIds
        type: ENCRYPT
        tags: [JOIN_KEY]
        params: { encrypt.kek.name: ${name}-kek, encrypt.kms.type: local-kms, encrypt.kms.key.id: key-a, encrypt.dek.algorithm: AES256_SIV }
        onFailure: ERROR,ERROR
` : ''}`);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return documents[0]!.job!;
}

async function refusal(work: Promise<unknown>): Promise<RecryptError> {
  const err = await work.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RecryptError);
  return err as RecryptError;
}

describe('a job in a join group', () => {
  it('gives the group to keys/ and resolves its subjects to the group scope on write', () => {
    const job = groupJob('scope-job', 'orders');
    const groups = joinGroupsOf(job);
    const scopeOf = writeScopeOf(groups);
    expect(scopeOf('orders.siv-value')).toBe('join-group:customer-ids');
    expect(scopeOf('customers.siv-value')).toBe('join-group:customer-ids');
    expect(scopeOf('orders-value')).toBe('orders-value');
    expect(joinGroupView(groups.ofSubject('orders.siv-value')!)).toEqual({
      name: 'customer-ids', subjects: ['customers.siv-value', 'orders.siv-value'], anchor: 'customers.siv-value', scope: 'join-group:customer-ids',
    });
  });

  it('refuses a write plan that would encrypt with a DEK per subject, accepts one on the group scope', async () => {
    const job = groupJob('plan-job', 'orders');
    const groups = joinGroupsOf(job);
    const rules: RuleSet = { domainRules: [...(job.spec.rules?.domainRules ?? [])] };
    const registered = await client.register('orders.siv-value', { schemaType: 'AVRO', schema: SCHEMA, ruleSet: rules });
    const schemas = new SchemaStore(client);
    const loaded = await schemas.adopt(registered, 'orders.siv-value');
    const perSubject = compileSide(loaded, schemas.codec(loaded), 'write', 'orders.siv-value');
    expect(encryptingSteps(perSubject)).toHaveLength(1);
    const err = (() => {
      try {
        assertWritesWithGroup(job, groups, 'orders.siv-value', perSubject);
      } catch (e) {
        return e as RecryptError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('JOB_INVALID');
    expect(err?.message).toMatch(/rule encryptIds on orders\.siv-value would encrypt with a DEK of subject scope orders\.siv-value, not with join group customer-ids/);
    const grouped = compileSide(loaded, schemas.codec(loaded), 'write', 'orders.siv-value', undefined, writeScopeOf(groups));
    expect(() => assertWritesWithGroup(job, groups, 'orders.siv-value', grouped)).not.toThrow();
    // A subject outside any group is not checked.
    expect(() => assertWritesWithGroup(job, groups, 'elsewhere-value', perSubject)).not.toThrow();
  });

  it('prepareJob refuses a target schema whose rules the group cannot share (AES256_GCM), before running', async () => {
    await client.register('gcm-src-value', { schemaType: 'AVRO', schema: SCHEMA });
    const gcm: RuleSet = {
      domainRules: [{
        name: 'encryptIds', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['JOIN_KEY'], onFailure: 'ERROR,ERROR',
        params: { 'encrypt.kek.name': 'gcm-kek', 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'key-a' },
      }],
    };
    await client.register('gcm-src.siv-value', { schemaType: 'AVRO', schema: SCHEMA, ruleSet: gcm });
    const job = groupJob('gcm-job', 'gcm-src', false);
    const err = await refusal(prepareJob(createJobRuntime(config, job, { logger: silentLogger })));
    expect(err.code).toBe('JOB_UNSAFE');
    // The target subject is outside the group, and its rule writes with the default AES256_GCM.
    expect(err.message).toContain('the target subject gcm-src.siv-value is not in join group customer-ids');
    expect(err.message).toContain('spec.target.schema(ruleSet).domainRules[0].params: rule encryptIds writes with the default AES256_GCM');
  });

  it('prepareJob prepares a group route whose write plan encrypts with the group\'s DEK scope', async () => {
    await client.register('orders-value', { schemaType: 'AVRO', schema: SCHEMA });
    const prepared = await prepareJob(createJobRuntime(config, groupJob('orders-join', 'orders'), { logger: silentLogger }));
    expect(prepared.joinGroups.ofSubject('orders.siv-value')?.name).toBe('customer-ids');
    const side = prepared.routes.get('orders')!.transformer.targetSide();
    expect(encryptingSteps(side).map((s) => s.dek.scope)).toEqual(['join-group:customer-ids']);
  });

  it('prepareJob stops at start when a subject of the group already holds its own DEK (never at the first record)', async () => {
    await client.register('own-orders-value', { schemaType: 'AVRO', schema: SCHEMA });
    const dekClient = new DekRegistryClient({ baseUrls: [registry.url] });
    const kek = 'own-orders-kek';
    await dekClient.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'key-a', shared: true });
    // customers.siv-value, the anchor, has no DEK; own-orders.siv-value was given one by another client.
    await dekClient.createDek(kek, { subject: 'own-orders.siv-value', version: 1, algorithm: 'AES256_SIV' });
    const job = groupJob('own-orders', 'own-orders', true, ['own-orders.siv-value', 'customers.siv-value']);
    const err = await refusal(prepareJob(createJobRuntime(config, job, { logger: silentLogger })));
    expect(err.code).toBe('JOIN_GROUP_DIVERGED');
    expect(err.message).toContain('subject own-orders.siv-value holds DEK version 1');
    expect(await dekClient.getDek(kek, 'customers.siv-value', 1, 'AES256_SIV')).toBeNull();
    // Refused before anything was registered: the job's rules did not reach the target subject, where
    // another client's serializer would have created more of the DEKs the group cannot share.
    await expect(client.getLatest('own-orders.siv-value')).rejects.toMatchObject({ code: 'REGISTRY_NOT_FOUND' });
  });
});
