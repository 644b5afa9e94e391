// Issue 21 #10: `plan` over a topic pattern that matches no topic fails like `run` (JOB_INVALID, exit
// 1) instead of printing an empty plan with exit 0; a pattern that matches still plans.
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA } from '../helpers/customers.js';
import { createTopic, deleteTopics } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

function jobYaml(name: string, pattern: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source: { topicPattern: '${pattern}', startAt: earliest, stopAt: end }
  target: { topic: '{topic}-enc', createTopic: true }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params:
          encrypt.kek.name: ${uniqueName('kek-plan')}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: plan-key
        onFailure: ERROR,ERROR
`;
}

describe('recrypt plan over a topic pattern', () => {
  it('fails with JOB_INVALID when no topic matches, as run does', async () => {
    const prefix = uniqueName('nomatch').replaceAll('-', '');
    const file = writeJobFile(jobYaml(uniqueName('plan-none').toLowerCase(), `${prefix}\\..*`));
    const plan = await recrypt(['plan', file]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('JOB_INVALID');
    expect(plan.stderr).toContain('no source topic matches');
    const json = await recrypt(['plan', file, '--json']);
    expect(json.code).toBe(1);
    expect(json.stdout).toBe('');
    const run = await recrypt(['run', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('JOB_INVALID');
  });

  it('plans every matching topic', async () => {
    const prefix = uniqueName('match').replaceAll('-', '');
    const topic = await createTopic(`${prefix}.customers`, 1);
    created.push(topic);
    await register(stack.registryUrl, `${topic}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const plan = await recrypt(['plan', writeJobFile(jobYaml(uniqueName('plan-some').toLowerCase(), `${prefix}\\..*`)), '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).map((r: { source: string }) => r.source)).toEqual([topic]);
  });
});
