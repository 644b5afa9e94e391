// `recrypt run` end to end on the real stack: a plaintext topic written by Confluent's serializer is
// backfilled into an encrypted topic; Confluent's deserializer decrypts every record; a second run
// writes nothing (offsets were committed inside the transactions).
import { afterAll, describe, expect, it } from 'vitest';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const customer = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'demo',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
  ],
});

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

function jobYaml(name: string, source: string, target: string, kek: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source:
    topic: ${source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: demo-key
        onFailure: ERROR,ERROR
`;
}

describe('recrypt run (encrypt, stopAt end)', () => {
  it('backfills a plaintext topic into one that Confluent clients decrypt, exactly once', async () => {
    const source = await createTopic('customers', 3, { 'retention.ms': '-1' });
    const target = uniqueName('customers-enc');
    created.push(source, target);
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: customer });
    const plain = officialSerdes(stack.registryUrl, 'AVRO');
    const people = Array.from({ length: 300 }, (_, i) => ({
      id: i, name: `Canary-${i}-${uniqueName('n')}`, email: `user${i}@example.com`, country: i % 2 ? 'NL' : 'DE', balance: i / 4,
    }));
    const t0 = Date.now() - 60_000;
    await produceRaw(source, await Promise.all(people.map(async (p, i) => ({
      key: Buffer.from(`c${i}`), value: Buffer.from(await plain.serializer.serialize(source, { ...p })),
      partition: i % 3, timestamp: String(t0 + i), headers: { origin: Buffer.from('legacy') },
    }))));

    const job = writeJobFile(jobYaml(uniqueName('backfill').toLowerCase(), source, target, uniqueName('kek')));
    const first = await recrypt(['run', job]);
    expect(first.stderr).not.toContain('Canary-');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/300 records \(300 written, 0 to DLQ\)/);

    const out = await consumeRaw(target, { count: 300 });
    expect(out).toHaveLength(300);
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    for (const record of out) {
      const i = Number(record.key!.toString().slice(1));
      expect(record.partition).toBe(i % 3);
      expect(record.timestamp).toBe(String(t0 + i));
      expect(record.headers.origin?.toString()).toBe('legacy');
      expect(record.value!.includes(Buffer.from(people[i]!.name))).toBe(false);
      expect(record.value!.includes(Buffer.from(people[i]!.email))).toBe(false);
      expect(await official.deserializer.deserialize(target, record.value!)).toEqual(people[i]);
    }

    const second = await recrypt(['run', job]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/ 0 records/);
    expect(await consumeRaw(target, { idleMs: 3000 })).toHaveLength(300);
  });

  it('refuses an unsafe job before touching Kafka', async () => {
    const job = writeJobFile(jobYaml('unsafe-job', 'nowhere', 'nowhere-enc', 'k').replace('onFailure: ERROR,ERROR', 'onFailure: NONE,NONE'));
    const result = await recrypt(['run', job]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/job\.yaml:\d+:\d+: .*onFailure/);
  });
});
