// KEKs in AWS KMS (moto): recrypt's output decrypts with Confluent's deserializer through the same
// KMS; 100,000 records under one DEK cost exactly one unwrap; and with the KMS stopped mid-run nothing
// leaves unencrypted, and work resumes by itself when the KMS returns.
import { AwsKmsDriver as OfficialAwsKmsDriver } from '@confluentinc/schemaregistry';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsDriverRegistry } from '../../../src/kms/driver-registry.js';
import type { KmsCallLabels } from '../../../src/kms/metrics.js';
import type { ProcessedRecord } from '../../../src/util/records.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { officialSerdes, recryptEngine, register, sourceRecord } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { stack, uniqueName } from '../helpers/stack.js';

let moto: Moto;
let keyArn: string;
const created: string[] = [];
const savedEndpoint = process.env.AWS_ENDPOINT_URL_KMS;

beforeAll(async () => {
  moto = await startMoto();
  // The official client's AWS driver reads the SDK's own endpoint variable, like recrypt's.
  process.env.AWS_ENDPOINT_URL_KMS = moto.endpoint;
  const admin = new KMSClient({ region: 'us-east-1', endpoint: moto.endpoint });
  keyArn = (await admin.send(new CreateKeyCommand({ Description: 'recrypt e2e' }))).KeyMetadata!.Arn!;
  admin.destroy();
  OfficialAwsKmsDriver.register();
});
afterAll(async () => {
  process.env.AWS_ENDPOINT_URL_KMS = savedEndpoint;
  if (created.length) await deleteTopics(...created);
  await moto.stop();
});

function awsRule(kek: string): string {
  return `        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: aws-kms
          encrypt.kms.key.id: ${keyArn}`;
}

function job(name: string, mode: string, source: string, target: string, params: string, stopAt: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: ${mode}
  source: { topic: ${source}, startAt: earliest, stopAt: ${stopAt} }
  target: { topic: ${target}, createTopic: true }
  processing: { batchSize: 100, retryBackoffMs: 200, retryBackoffMaxMs: 1000 }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
${params}
        onFailure: ERROR,ERROR
`;
}

describe('aws-kms end to end (moto)', () => {
  it('recrypt encrypts with an aws-kms KEK; the official deserializer decrypts through the same KMS', async () => {
    const source = await createTopic('aws-src', 1);
    const target = uniqueName('aws-enc');
    created.push(source, target);
    const id = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const data = customers(500, 1, id);
    await produceRaw(source, data.records);
    const run = await recrypt(['run', writeJobFile(job(uniqueName('aws').toLowerCase(), 'encrypt', source, target, awsRule(uniqueName('aws-kek')), 'end'))],
      { env: { AWS_ENDPOINT_URL_KMS: moto.endpoint } });
    expect(run.code, run.stderr).toBe(0);
    const out = await consumeRaw(target, { count: 500 });
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    for (let i = 0; i < out.length; i += 25) {
      expect(out[i]!.value!.includes(data.canary)).toBe(false);
      expect(await official.deserializer.deserialize(target, out[i]!.value!)).toEqual(data.people[i]);
    }
  });

  it('100,000 records under one DEK cost exactly one wrap to write and one unwrap to read', async () => {
    const plain = uniqueName('cnt-plain');
    const enc = uniqueName('cnt-enc');
    const dec = uniqueName('cnt-dec');
    const id = await register(stack.registryUrl, `${plain}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    await register(stack.registryUrl, `${dec}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    await register(stack.registryUrl, `${enc}-value`, {
      schemaType: 'AVRO', schema: CUSTOMER_SCHEMA,
      ruleSet: { domainRules: [{ name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'],
        params: { 'encrypt.kek.name': uniqueName('cnt-kek'), 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': keyArn } }] },
    });
    const calls: KmsCallLabels[] = [];
    const counting = () => createKmsDriverRegistry({ count: (l) => calls.push(l) });
    const data = customers(100_000, 1, id);
    const output = (r: ProcessedRecord) => { if (!('outputs' in r)) throw r.halt; return r.outputs[0]!.value!; };

    const writer = await recryptEngine(stack.registryUrl, { mode: 'encrypt', targetSubject: `${enc}-value`, targetTopic: enc, kmsRegistry: counting() });
    const encrypted: Buffer[] = [];
    for (let i = 0; i < data.records.length; i += 5000) {
      const batch = data.records.slice(i, i + 5000).map((r, j) => sourceRecord(plain, r.value as Buffer, i + j));
      for (const r of await writer.transformer.process(batch)) encrypted.push(output(r));
    }
    expect(calls.filter((c) => c.operation === 'wrap')).toHaveLength(1);
    expect(calls.filter((c) => c.operation === 'unwrap')).toHaveLength(0);

    calls.length = 0;
    const reader = await recryptEngine(stack.registryUrl, { mode: 'decrypt', targetSubject: `${dec}-value`, targetTopic: dec, kmsRegistry: counting() });
    for (let i = 0; i < encrypted.length; i += 5000) {
      const results = await reader.transformer.process(encrypted.slice(i, i + 5000).map((v, j) => sourceRecord(enc, v, i + j)));
      expect(results.every((r) => 'outputs' in r)).toBe(true);
    }
    expect(calls.filter((c) => c.operation === 'unwrap')).toHaveLength(1);
    expect(calls.filter((c) => c.operation === 'wrap')).toHaveLength(0);
  });

  it('with the KMS stopped mid-run nothing leaves unencrypted, and the job resumes when it returns', { timeout: 240_000 }, async () => {
    // Re-encrypt: the source's second half was written under a DEK recrypt has not unwrapped yet.
    const source = await createTopic('stall-src', 1);
    const target = uniqueName('stall-dst');
    created.push(source, target);
    const firstKek = uniqueName('first');
    const secondKek = uniqueName('second');
    const rules = (kek: string) => ({ domainRules: [{ name: 'encryptPII', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['PII'],
      params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': keyArn } }] });
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA, ruleSet: rules(firstKek) });
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    const data = customers(400, 1, 0);
    const produceHalf = async (from: number, to: number) => produceRaw(source, await Promise.all(data.people.slice(from, to).map(async (p, k) => ({
      key: Buffer.from(`c${from + k}`), value: Buffer.from(await official.serializer.serialize(source, { ...p })), partition: 0,
    }))));
    await produceHalf(0, 200);

    const localKek = `${awsRule(uniqueName('target'))}`.replace(/aws-kms/, 'local-kms').replace(keyArn, 'target-key');
    const running = recrypt(['run', writeJobFile(job(uniqueName('stall').toLowerCase(), 'reencrypt', source, target, localKek, 'never'))],
      { env: { AWS_ENDPOINT_URL_KMS: moto.endpoint, RECRYPT_KMS_TIMEOUT_MS: '1000' }, timeoutMs: 200_000 });
    const firstHalf = await consumeRaw(target, { count: 200, idleMs: 60_000 });
    if (firstHalf.length !== 200) {
      running.child.kill('SIGTERM');
      const failed = await running;
      throw new Error(`first half not written: ${failed.stderr.slice(-2000)}`);
    }

    moto.pause();
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA, ruleSet: rules(secondKek) });
    moto.resume(); // the official serializer needs the KMS to write the second half
    const writer = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    const second = await Promise.all(data.people.slice(200).map(async (p, k) => ({
      key: Buffer.from(`c${200 + k}`), value: Buffer.from(await writer.serializer.serialize(source, { ...p })), partition: 0,
    })));
    moto.pause();
    await produceRaw(source, second);
    await new Promise((r) => setTimeout(r, 12_000));
    const during = await consumeRaw(target, { idleMs: 3000, isolation: 'read_uncommitted' });
    expect(during).toHaveLength(200); // nothing of the second half left, in any form
    for (const r of during) expect(r.value!.includes(data.canary)).toBe(false);

    moto.resume();
    const after = await consumeRaw(target, { count: 400 });
    expect(after).toHaveLength(400);
    for (const r of after) expect(r.value!.includes(data.canary)).toBe(false);
    running.child.kill('SIGTERM');
    const result = await running;
    expect(result.code).toBe(EXIT.STOPPED); // a streaming run ends only by a signal
    expect(result.stderr).toMatch(/KMS_UNAVAILABLE/);
    expect(result.stderr).not.toContain(data.canary);
  });
});
