// Issue 21 #4 on the real stack (the shared moto KMS and dev registry): a job naming an AWS key that
// does not exist registers nothing (no KEK, no schema version) and says which KEK and key failed;
// `plan --check-kms` finds it without registering; the corrected job then runs. A KEK left by an older
// release with the wrong key id (and a schema version pinning it) is corrected with
// `rewrap-deks --switch`, which first proves the new key wraps.
import { AwsKmsDriver as OfficialAwsKmsDriver } from '@confluentinc/schemaregistry';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const created: string[] = [];
let goodArn: string;
// Well formed, in moto's default account, but no such key.
const MISSING_ARN = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000dead';

beforeAll(async () => {
  const admin = new KMSClient({ region: 'us-east-1', endpoint: stack.kmsEndpoint });
  goodArn = (await admin.send(new CreateKeyCommand({ Description: 'recrypt wrong-key-id test' }))).KeyMetadata!.Arn!;
  admin.destroy();
  OfficialAwsKmsDriver.register();
});
afterAll(async () => { if (created.length) await deleteTopics(...created); });

const dekRegistry = () => new DekRegistryClient({ baseUrls: [stack.registryUrl] });
const schemaRegistry = () => new SchemaRegistryClient({ baseUrls: [stack.registryUrl] });

async function versionsOf(subject: string): Promise<number[]> {
  return (await schemaRegistry().getAllSubjects()).includes(subject) ? schemaRegistry().getAllVersions(subject) : [];
}

function jobYaml(name: string, source: string, target: string, kek: string, keyId: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source: { topic: ${source}, startAt: earliest, stopAt: end }
  target: { topic: ${target}, createTopic: true }
  processing: { batchSize: 50, retryBackoffMs: 200, retryBackoffMaxMs: 1000 }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: aws-kms
          encrypt.kms.key.id: '${keyId}'
        onFailure: ERROR,ERROR
`;
}

async function sourceTopic(count: number) {
  const source = await createTopic('wrongkey-src', 1);
  const target = uniqueName('wrongkey-enc');
  created.push(source, target);
  const id = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
  const data = customers(count, 1, id);
  await produceRaw(source, data.records);
  return { source, target, data };
}

describe('a KEK whose AWS key id is wrong', () => {
  it('run registers nothing and names the KEK and key; plan --check-kms finds it; the corrected job runs', async () => {
    const { source, target, data } = await sourceTopic(40);
    const kek = uniqueName('kek-wrong');
    const name = uniqueName('wrongkey').toLowerCase();
    const wrong = writeJobFile(jobYaml(name, source, target, kek, MISSING_ARN));

    const plain = await recrypt(['plan', wrong]);
    expect(plain.code, plain.stderr).toBe(0);
    const checked = await recrypt(['plan', wrong, '--check-kms']);
    expect(checked.code, checked.stdout).toBe(1);
    expect(checked.stderr).toContain(`KMS check failed: KMS_KEY_NOT_FOUND: KMS check of KEK ${kek} failed: aws-kms wrap with key ${MISSING_ARN} failed`);
    expect(checked.stdout).toContain('KMS check FAILED: KMS_KEY_NOT_FOUND');

    const failed = await recrypt(['run', wrong]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('KMS_KEY_NOT_FOUND');
    expect(failed.stderr).toContain(`KEK ${kek}`);
    expect(failed.stderr).toContain(MISSING_ARN);
    expect(failed.stderr + failed.stdout).not.toContain(data.canary);
    // Nothing registered: no KEK (not even soft-deleted) and no version on the target subject.
    expect(await dekRegistry().getKek(kek, true)).toBeNull();
    expect(await versionsOf(`${target}-value`)).toEqual([]);

    const fixed = writeJobFile(jobYaml(name, source, target, kek, goodArn));
    const json = await recrypt(['plan', fixed, '--check-kms', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)[0].kms).toEqual([{ kek, kmsType: 'aws-kms', kmsKeyId: goodArn, status: 'new' }]);
    expect(await dekRegistry().getKek(kek, true)).toBeNull();

    const run = await recrypt(['run', fixed]);
    expect(run.code, run.stderr).toBe(0);
    expect((await dekRegistry().getKek(kek))?.kmsKeyId).toBe(goodArn);
    const out = await consumeRaw(target, { count: 40 });
    expect(out).toHaveLength(40);
    const official = officialSerdes(stack.registryUrl, 'AVRO');
    expect(await official.deserializer.deserialize(target, out[7]!.value!)).toEqual(data.people[7]);
    for (const r of out) expect(r.value!.includes(data.canary)).toBe(false);
  });

  it('a KEK registered with the wrong key id (no DEK yet) is corrected by rewrap-deks --switch', async () => {
    const { source, target, data } = await sourceTopic(20);
    const kek = uniqueName('kek-stuck');
    const name = uniqueName('stuck').toLowerCase();
    // What a first run of an older release left behind: the KEK and a target schema version, both
    // naming the mistyped key, and no DEK.
    await dekRegistry().createKek({ name: kek, kmsType: 'aws-kms', kmsKeyId: MISSING_ARN, shared: false });
    await register(stack.registryUrl, `${target}-value`, {
      schemaType: 'AVRO', schema: CUSTOMER_SCHEMA,
      ruleSet: { domainRules: [{ name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': MISSING_ARN }, onFailure: 'ERROR,ERROR', disabled: false }] },
    });
    const before = await versionsOf(`${target}-value`);
    const fixed = writeJobFile(jobYaml(name, source, target, kek, goodArn));

    // The corrected job stops at the start, registers nothing, and points at the runbook.
    const stuck = await recrypt(['run', fixed]);
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain(`KEK_MISMATCH: KEK ${kek} is registered with aws-kms key ${MISSING_ARN}`);
    expect(stuck.stderr).toContain('KEK registered with the wrong key id');
    expect(await versionsOf(`${target}-value`)).toEqual(before);

    // A second typo is refused before the KEK is touched.
    const again = await recrypt(['rewrap-deks', '--kek', kek, '--kms-key-id', `${MISSING_ARN.slice(0, -4)}beef`, '--switch']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('KMS_KEY_NOT_FOUND');
    expect((await dekRegistry().getKek(kek))?.kmsKeyId).toBe(MISSING_ARN);

    const dry = await recrypt(['rewrap-deks', '--kek', kek, '--kms-key-id', goodArn, '--switch', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would move the KEK record to the new key');
    expect((await dekRegistry().getKek(kek))?.kmsKeyId).toBe(MISSING_ARN);

    const moved = await recrypt(['rewrap-deks', '--kek', kek, '--kms-key-id', goodArn, '--switch']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`OK: KEK ${kek} now uses aws-kms key ${goodArn}`);
    expect(moved.stdout).toContain('still name the old key');
    expect((await dekRegistry().getKek(kek))?.kmsKeyId).toBe(goodArn);

    const run = await recrypt(['run', fixed]);
    expect(run.code, run.stderr).toBe(0);
    const out = await consumeRaw(target, { count: 20 });
    const official = officialSerdes(stack.registryUrl, 'AVRO');
    expect(await official.deserializer.deserialize(target, out[3]!.value!)).toEqual(data.people[3]);
  });
});
