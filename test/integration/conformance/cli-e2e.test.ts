// `recrypt run` end to end over real topics, against Confluent's Go client, for each format: immune to
// the engine's internals. (1) Go writes plaintext, `recrypt run` encrypts it into a new topic, Go reads
// every record back. (2) Go writes encrypted records, `recrypt run` decrypts them, Go reads the
// plaintext. (3) Go writes encrypted records, `recrypt run` re-encrypts them under another KEK and
// algorithm, Go reads them. Uses the stack's dev registry and local secret, as the CLI does.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { create, toJson } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { register } from '../helpers/csfle.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { messageDesc, messageRegistry } from '../engine/proto-descriptors.js';
import { encryptRule, FORMATS, kmsParams, type KmsType } from './cell.js';
import { GoClient, toGo, type Format } from './go-client.js';
import { customer, SCHEMAS } from './schemas.js';

const RECORDS = 40;
const created: string[] = [];
let go: GoClient;
let awsKeyArn: string;
beforeAll(async () => {
  go = new GoClient(stack.registryUrl, { LOCAL_SECRET: stack.localSecret });
  const admin = new KMSClient({ region: 'us-east-1', endpoint: stack.kmsEndpoint });
  awsKeyArn = (await admin.send(new CreateKeyCommand({ Description: 'recrypt Go conformance (cli)' }))).KeyMetadata!.Arn!;
  admin.destroy();
});
afterAll(async () => {
  await go?.close();
  if (created.length) await deleteTopics(...created);
});

/** Each format runs under its own algorithm and KMS, so the three runs cover all algorithms and both KMSs. */
const SETUP: Record<Format, { algorithm: string; kms: KmsType }> = {
  AVRO: { algorithm: 'AES256_SIV', kms: 'aws-kms' },
  PROTOBUF: { algorithm: 'AES128_GCM', kms: 'local-kms' },
  JSON: { algorithm: 'AES256_GCM', kms: 'aws-kms' },
};

function goValue(format: Format, value: unknown): unknown {
  if (format !== 'PROTOBUF') return toGo(value);
  const desc = messageDesc(messageRegistry(SCHEMAS.PROTOBUF.schema), SCHEMAS.PROTOBUF.typeName!);
  return toJson(desc, create(desc, value as Record<string, unknown>), { useProtoFieldName: true, alwaysEmitImplicit: true });
}

function rulesYaml(kek: string, params: Record<string, string>): string {
  return `  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
${Object.entries({ 'encrypt.kek.name': kek, ...params }).map(([k, v]) => `          ${k}: "${v}"`).join('\n')}
        onFailure: ERROR,ERROR
`;
}

function job(mode: string, source: string, target: string, rules = ''): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${uniqueName(`go-${mode}`).toLowerCase()}
spec:
  mode: ${mode}
  source: { topic: ${source}, startAt: earliest, stopAt: end }
  target: { topic: ${target}, createTopic: true }
${rules}`;
}

async function runJob(yaml: string, count: number): Promise<void> {
  const result = await recrypt(['run', writeJobFile(yaml)]);
  expect(result.stderr).not.toContain('Canary');
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`${count} records \\(${count} written, 0 to DLQ\\)`));
}

async function goReadsAll(format: Format, topic: string, secrets: string[][]): Promise<void> {
  const out = await consumeRaw(topic, { count: RECORDS });
  expect(out).toHaveLength(RECORDS);
  for (const record of out) {
    const i = Number(record.key!.toString());
    for (const s of secrets[i] ?? []) expect(record.value!.includes(Buffer.from(s)), 'plaintext in ciphertext').toBe(false);
    expect(await go.deserialize(format, topic, record.value!)).toEqual(goValue(format, customer(format, i).value));
  }
}

describe.each(FORMATS)('%s through `recrypt run`', (format) => {
  const { schema, typeName } = SCHEMAS[format];
  const { algorithm, kms } = SETUP[format];
  const params = (): Record<string, string> => ({ ...kmsParams(kms, awsKeyArn), 'encrypt.dek.algorithm': algorithm });
  const values = Array.from({ length: RECORDS }, (_, i) => customer(format, i));

  it(`Go plaintext -> recrypt run encrypt (${algorithm}, ${kms}) -> Go reads`, async () => {
    const source = await createTopic('go-plain', 1, { 'retention.ms': '-1' });
    const target = uniqueName('go-enc');
    created.push(source, target);
    await register(stack.registryUrl, `${source}-value`, { schemaType: format, schema });
    await produceRaw(source, await Promise.all(values.map(async ({ value }, i) => ({
      key: Buffer.from(String(i)), value: await go.serialize(format, source, goValue(format, value), typeName),
    }))));
    await runJob(job('encrypt', source, target, rulesYaml(uniqueName('kek'), params())), RECORDS);
    await goReadsAll(format, target, values.map((v) => v.secrets));
  });

  it(`Go ciphertext (${algorithm}, ${kms}) -> recrypt run decrypt -> Go reads; -> recrypt run reencrypt -> Go reads`, async () => {
    const source = await createTopic('go-enc-src', 1, { 'retention.ms': '-1' });
    const plainTarget = uniqueName('go-dec');
    const reTarget = uniqueName('go-re');
    created.push(source, plainTarget, reTarget);
    await register(stack.registryUrl, `${source}-value`, {
      schemaType: format, schema, ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), params())] },
    });
    await register(stack.registryUrl, `${plainTarget}-value`, { schemaType: format, schema });
    await produceRaw(source, await Promise.all(values.map(async ({ value, secrets }, i) => {
      const bytes = await go.serialize(format, source, goValue(format, value), typeName);
      for (const s of secrets) expect(bytes.includes(Buffer.from(s))).toBe(false);
      return { key: Buffer.from(String(i)), value: bytes };
    })));
    await runJob(job('decrypt', source, plainTarget), RECORDS);
    await goReadsAll(format, plainTarget, []);
    // Re-encrypt under a new KEK with the other randomized algorithm.
    const other = algorithm === 'AES256_GCM' ? 'AES128_GCM' : 'AES256_GCM';
    await runJob(job('reencrypt', source, reTarget, rulesYaml(uniqueName('kek'), { ...params(), 'encrypt.dek.algorithm': other })), RECORDS);
    await goReadsAll(format, reTarget, values.map((v) => v.secrets));
  });
});
