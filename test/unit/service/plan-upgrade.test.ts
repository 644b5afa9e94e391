// `recrypt plan` for target.upgrade: latest (issue #25): the route lists, per older version of the source
// subject, each JSONata migration step to its latest version; a rule that does not compile is an error
// problem naming subject, version and rule. Against an in-process dev registry; no Kafka.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import type { Job } from '../../../src/jobs/index.js';
import { loadText } from '../../../src/jobs/load.js';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import type { Rule } from '../../../src/registry/types.js';
import { loadServiceConfig, type ServiceConfig } from '../../../src/service/config.js';
import { planJob } from '../../../src/service/job-plan.js';

vi.mock('../../../src/runtime/topic-limits.js', async (original) => ({
  ...(await original<typeof import('../../../src/runtime/topic-limits.js')>()),
  sizeLimitProblems: () => Promise.resolve([]),
}));

const SECRET = 'plan-upgrade-secret';
let registry: DevRegistry;
let client: SchemaRegistryClient;
let config: ServiceConfig;
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: SECRET });
  client = new SchemaRegistryClient({ baseUrls: [registry.url], latestTtlMs: 0 });
  config = loadServiceConfig({ SCHEMA_REGISTRY_URL: registry.url, KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1', LOCAL_SECRET: SECRET });
});
afterAll(async () => { await registry.close(); });

const schema = (field: string) => JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: field, type: 'int' }] });
const jsonata = (name: string, mode: Rule['mode'], expr: string): Rule => ({ name, kind: 'TRANSFORM', type: 'JSONATA', mode, expr, onFailure: 'DLQ' });

function job(topic: string): Job {
  const { documents } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: plan-upgrade }
spec:
  mode: reencrypt
  source: { topic: ${topic} }
  target: { topic: ${topic}, upgrade: latest }
`);
  return documents[0]!.job!;
}

describe('recrypt plan with target.upgrade: latest', () => {
  it('lists each version step from every older version to the latest', async () => {
    const subject = 'plan-up-a-value';
    await client.register(subject, { schemaType: 'AVRO', schema: schema('size') });
    await client.register(subject, { schemaType: 'AVRO', schema: schema('height'), ruleSet: { migrationRules: [jsonata('toHeight', 'UPGRADE', "{'height': $.size}")] } });
    await client.register(subject, { schemaType: 'AVRO', schema: schema('length'), ruleSet: { migrationRules: [jsonata('toLength', 'UPDOWN', "{'length': $.height}")] } });
    const [route] = await planJob(job('plan-up-a'), config);
    expect(route?.migrations).toEqual([
      { mode: 'UPGRADE', from: 1, to: 3, steps: [{ from: 1, to: 2, rules: [{ rule: 'toHeight', action: 'DLQ' }] }, { from: 2, to: 3, rules: [{ rule: 'toLength', action: 'DLQ' }] }] },
      { mode: 'UPGRADE', from: 2, to: 3, steps: [{ from: 2, to: 3, rules: [{ rule: 'toLength', action: 'DLQ' }] }] },
    ]);
    // (The sources carry no ENCRYPT rule, so reencrypt has problems of its own; none is about migrations.)
    expect(route?.problems.filter((p) => /migration/.test(p.message))).toEqual([]);
  });

  it('an expression that does not compile is an error problem', async () => {
    const subject = 'plan-up-b-value';
    await client.register(subject, { schemaType: 'AVRO', schema: schema('size') });
    await client.register(subject, { schemaType: 'AVRO', schema: schema('height'), ruleSet: { migrationRules: [jsonata('broken', 'UPGRADE', "{'height': $.size")] } });
    const [route] = await planJob(job('plan-up-b'), config);
    const errors = route?.problems.filter((p) => p.severity === 'error' && /migration/.test(p.message)) ?? [];
    expect(errors.map((p) => p.message)).toEqual([expect.stringMatching(/subject plan-up-b-value version 2 migration rule broken: JSONata does not compile/)]);
  });
});
