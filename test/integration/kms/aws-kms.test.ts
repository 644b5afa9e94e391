// aws-kms driver against moto's KMS server from the local stack (the real AWS KMS JSON API).
// moto does not enforce key state (Encrypt on a disabled key succeeds there), so the disabled-key
// mapping (DisabledException / KMSInvalidStateException) is covered by test/unit/kms/aws-kms.test.ts.
import { AwsKmsClient } from '@confluentinc/schemaregistry/dist/rules/encryption/awskms/aws-client.js';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsKmsDriver } from '../../../src/kms/aws-kms.js';
import { withMetrics, type KmsCallLabels } from '../../../src/kms/metrics.js';
import { withRetry } from '../../../src/kms/retry.js';
import { createKmsDriverRegistry } from '../../../src/kms/driver-registry.js';
import { canaryDek, expectNoLeak, rejection } from '../../unit/kms/leak-check.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { closedPort } from './fakes/http-fake.js';

const REGION = 'us-east-1';

describe('aws-kms driver (moto KMS server)', () => {
  let admin: KMSClient;
  let keyArn: string;
  let keyId: string;
  let aliasArn: string;
  const driver = new AwsKmsDriver();

  beforeAll(async () => {
    admin = new KMSClient({ region: REGION, endpoint: stack.kmsEndpoint });
    const created = await admin.send(new CreateKeyCommand({ Description: 'recrypt aws-kms test' }));
    keyArn = created.KeyMetadata!.Arn!;
    keyId = created.KeyMetadata!.KeyId!;
    const alias = `alias/${uniqueName('recrypt')}`;
    await admin.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    aliasArn = keyArn.replace(/key\/.*$/, alias);
  });
  afterAll(() => admin.destroy());

  it('wraps and unwraps through the SDK default chain and AWS_ENDPOINT_URL_KMS', async () => {
    const dek = canaryDek();
    const wrapped = await driver.wrap(keyArn, dek, {});
    expect(Buffer.from(wrapped).includes(dek)).toBe(false);
    expect(Buffer.from(await driver.unwrap(keyArn, wrapped, {})).equals(dek)).toBe(true);
  });

  it('uses explicit access.key.id / secret.access.key props', async () => {
    const props = { 'access.key.id': 'testing-explicit', 'secret.access.key': 'testing-explicit-secret' };
    const dek = canaryDek();
    expect(Buffer.from(await driver.unwrap(keyArn, await driver.wrap(keyArn, dek, props), props)).equals(dek)).toBe(true);
  });

  it('accepts an alias ARN as the key id', async () => {
    const dek = canaryDek();
    const wrapped = await driver.wrap(aliasArn, dek, {});
    expect(Buffer.from(await driver.unwrap(keyArn, wrapped, {})).equals(dek)).toBe(true);
  });

  it('interoperates with Confluent\'s AwsKmsClient both ways', async () => {
    const confluent = new AwsKmsClient(`aws-kms://${keyArn}`, { accessKeyId: 'testing', secretAccessKey: 'testing' });
    const dek = canaryDek();
    const byConfluent = await confluent.encrypt(dek);
    expect(Buffer.from(await driver.unwrap(keyArn, byConfluent, {})).equals(dek)).toBe(true);
    const byUs = await driver.wrap(keyArn, dek, {});
    expect((await confluent.decrypt(Buffer.from(byUs))).equals(dek)).toBe(true);
  });

  it('unknown key -> KMS_KEY_NOT_FOUND (permanent)', async () => {
    const missing = keyArn.replace(/key\/.*$/, 'key/00000000-0000-0000-0000-000000000000');
    const err = await rejection(driver.wrap(missing, canaryDek(), {}));
    expect(err).toMatchObject({ code: 'KMS_KEY_NOT_FOUND', transient: false });
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('wrap');
  });

  it('tampered ciphertext -> KMS_UNWRAP_FAILED (permanent)', async () => {
    const wrapped = Buffer.from(await driver.wrap(keyArn, canaryDek(), {}));
    wrapped[wrapped.length - 1]! ^= 0x01;
    expect(await rejection(driver.unwrap(keyArn, wrapped, {}))).toMatchObject({ code: 'KMS_UNWRAP_FAILED', transient: false });
  });

  it('a ciphertext of another key -> permanent error (moto answers AccessDeniedException)', async () => {
    const other = await admin.send(new CreateKeyCommand({}));
    const wrapped = await driver.wrap(keyArn, canaryDek(), {});
    const err = await rejection(driver.unwrap(other.KeyMetadata!.Arn!, wrapped, {}));
    expect(err).toMatchObject({ transient: false });
    expect(['KMS_ACCESS_DENIED', 'KMS_UNWRAP_FAILED']).toContain((err as { code: string }).code);
  });

  it('a key id that is not an ARN -> KMS_CONFIG without calling AWS', async () => {
    expect(await rejection(driver.wrap(keyId, canaryDek(), {}))).toMatchObject({ code: 'KMS_CONFIG' });
  });

  it('endpoint on a closed port -> KMS_UNAVAILABLE (transient) after bounded retries', async () => {
    const port = await closedPort();
    const counted: KmsCallLabels[] = [];
    const down = withRetry(withMetrics(new AwsKmsDriver({ endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 1_000 }), (l) => counted.push(l)), {
      attempts: 3,
      baseMs: 1,
      maxMs: 5,
    });
    const dek = canaryDek();
    const err = await rejection(down.wrap(keyArn, dek, {}));
    expect(err).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    expect(counted).toEqual([
      { kmsType: 'aws-kms', operation: 'wrap', outcome: 'KMS_UNAVAILABLE' },
      { kmsType: 'aws-kms', operation: 'wrap', outcome: 'KMS_UNAVAILABLE' },
      { kmsType: 'aws-kms', operation: 'wrap', outcome: 'KMS_UNAVAILABLE' },
    ]);
    expectNoLeak(err, dek);
  });

  it('through the registry: decorated driver round trip, one KMS call each, counted', async () => {
    const counted: KmsCallLabels[] = [];
    const registry = createKmsDriverRegistry({ count: (l) => counted.push(l), retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
    const aws = registry.get('aws-kms');
    const dek = canaryDek();
    expect(Buffer.from(await aws.unwrap(keyArn, await aws.wrap(keyArn, dek, {}), {})).equals(dek)).toBe(true);
    expect(counted.map((l) => `${l.operation}:${l.outcome}`)).toEqual(['wrap:ok', 'unwrap:ok']);
  });

  it('canary: the DEK and secret key never appear in errors', async () => {
    const dek = canaryDek();
    const secret = 'canary-secret-access-key-0123456789';
    const props = { 'access.key.id': 'testing', 'secret.access.key': secret };
    const errors = [
      await rejection(driver.wrap(keyArn.replace(/key\/.*$/, 'key/00000000-0000-0000-0000-000000000000'), dek, props)),
      await rejection(driver.unwrap(keyArn, Buffer.concat([dek, Buffer.from('garbage')]), props)),
      await rejection(new AwsKmsDriver({ endpoint: `http://127.0.0.1:${await closedPort()}` }).wrap(keyArn, dek, props)),
    ];
    for (const err of errors) expectNoLeak(err, dek, secret);
  });
});
