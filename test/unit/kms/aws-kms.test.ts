// aws-kms without a server: error mapping (including DisabledException / KMSInvalidStateException,
// which moto does not produce), ARN parsing, and how credentials and clients are chosen.
import { EncryptCommand, DecryptCommand, type KMSClientConfig } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { AwsKmsDriver, mapAwsError, parseAwsKeyArn, type AwsKmsClientLike } from '../../../src/kms/aws-kms.js';
import { canaryDek, expectNoLeak, rejection } from './leak-check.js';

const ARN = 'arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  const err = new Error(`service said something about ${name}`);
  err.name = name;
  Object.assign(err, { $metadata: status === undefined ? {} : { httpStatusCode: status }, ...extra });
  return err;
}

describe('mapAwsError', () => {
  it.each([
    ['AccessDeniedException', 400, 'KMS_ACCESS_DENIED'],
    ['UnrecognizedClientException', 400, 'KMS_ACCESS_DENIED'],
    ['ExpiredTokenException', 400, 'KMS_ACCESS_DENIED'],
    ['NotFoundException', 400, 'KMS_KEY_NOT_FOUND'],
    ['DisabledException', 400, 'KMS_KEY_DISABLED'],
    ['KMSInvalidStateException', 400, 'KMS_KEY_DISABLED'],
    ['InvalidCiphertextException', 400, 'KMS_UNWRAP_FAILED'],
    ['IncorrectKeyException', 400, 'KMS_UNWRAP_FAILED'],
    ['InvalidKeyUsageException', 400, 'KMS_CONFIG'],
    ['ThrottlingException', 400, 'KMS_UNAVAILABLE'],
    ['KMSInternalException', 500, 'KMS_UNAVAILABLE'],
    ['KeyUnavailableException', 500, 'KMS_UNAVAILABLE'],
    ['DependencyTimeoutException', 503, 'KMS_UNAVAILABLE'],
    ['SomethingNew', 502, 'KMS_UNAVAILABLE'],
    ['SomethingNew', 429, 'KMS_UNAVAILABLE'],
    ['SomethingNew', 403, 'KMS_ACCESS_DENIED'],
    ['CredentialsProviderError', undefined, 'KMS_CONFIG'],
    ['TimeoutError', undefined, 'KMS_UNAVAILABLE'],
  ] as const)('%s (HTTP %s) -> %s', (name, status, code) => {
    const err = mapAwsError(sdkError(name, status), 'unwrap', ARN);
    expect(err.code).toBe(code);
    expect(err.transient).toBe(code === 'KMS_UNAVAILABLE');
    expect(err.message).toContain(ARN);
    expect(err.message).toContain('unwrap');
    expect(err.message).not.toContain('service said'); // provider text is never copied
  });

  it('unknown 4xx: unwrap -> KMS_UNWRAP_FAILED, wrap -> KMS_CONFIG', () => {
    expect(mapAwsError(sdkError('ValidationException', 400), 'unwrap', ARN).code).toBe('KMS_UNWRAP_FAILED');
    expect(mapAwsError(sdkError('ValidationException', 400), 'wrap', ARN).code).toBe('KMS_CONFIG');
  });

  it('socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT) are transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN']) {
      expect(mapAwsError(Object.assign(new Error('connect'), { code }), 'wrap', ARN)).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    }
  });
});

describe('parseAwsKeyArn', () => {
  it('takes the region from key and alias ARNs (any partition)', () => {
    expect(parseAwsKeyArn(ARN).region).toBe('eu-west-2');
    expect(parseAwsKeyArn('arn:aws:kms:us-east-1:111122223333:alias/my-kek').region).toBe('us-east-1');
    expect(parseAwsKeyArn('arn:aws-cn:kms:cn-north-1:111122223333:key/abc').region).toBe('cn-north-1');
  });

  it.each(['1234abcd-12ab', 'alias/my-kek', 'arn:aws:s3:::bucket', 'arn:aws:kms::111122223333:key/abc', 'arn:aws:kms:us-east-1:1:key/', 'arn:aws:kms:us-east-1:1:grant/x'])(
    '%s -> KMS_CONFIG',
    (bad) => {
      expect(() => parseAwsKeyArn(bad)).toThrow(expect.objectContaining({ code: 'KMS_CONFIG' }));
    },
  );
});

describe('AwsKmsDriver client and credentials', () => {
  function recording(reply: (cmd: unknown) => unknown = () => ({ CiphertextBlob: Uint8Array.of(1), Plaintext: Uint8Array.of(2) })) {
    const configs: KMSClientConfig[] = [];
    const commands: unknown[] = [];
    const factory = (config: KMSClientConfig): AwsKmsClientLike => {
      configs.push(config);
      return {
        send: (async (cmd: unknown) => {
          commands.push(cmd);
          return reply(cmd);
        }) as AwsKmsClientLike['send'],
      };
    };
    return { configs, commands, factory };
  }

  it('Encrypt and Decrypt carry the KeyId and no encryption context; SDK retries off; region from the ARN', async () => {
    const rec = recording();
    const driver = new AwsKmsDriver({ clientFactory: rec.factory, env: {} });
    await driver.wrap(ARN, Uint8Array.of(5), {});
    await driver.unwrap(ARN, Uint8Array.of(6), {});
    const [enc, dec] = rec.commands as [EncryptCommand, DecryptCommand];
    expect(enc).toBeInstanceOf(EncryptCommand);
    expect(enc.input).toEqual({ KeyId: ARN, Plaintext: Uint8Array.of(5) });
    expect(dec).toBeInstanceOf(DecryptCommand);
    expect(dec.input).toEqual({ KeyId: ARN, CiphertextBlob: Uint8Array.of(6) });
    expect(rec.configs).toHaveLength(1); // one cached client
    expect(rec.configs[0]).toMatchObject({ region: 'eu-west-2', maxAttempts: 1 });
    expect(rec.configs[0]!.credentials).toBeUndefined(); // SDK default chain
  });

  it('static keys from access.key.id / secret.access.key; one client per credential set', async () => {
    const rec = recording();
    const driver = new AwsKmsDriver({ clientFactory: rec.factory, env: {} });
    const a = { 'access.key.id': 'AKIA1', 'secret.access.key': 'secret-1' };
    const b = { 'access.key.id': 'AKIA1', 'secret.access.key': 'secret-2' };
    await driver.wrap(ARN, Uint8Array.of(1), a);
    await driver.wrap(ARN, Uint8Array.of(1), a);
    await driver.wrap(ARN, Uint8Array.of(1), b);
    expect(rec.configs).toHaveLength(2);
    expect(rec.configs[0]!.credentials).toEqual({ accessKeyId: 'AKIA1', secretAccessKey: 'secret-1' });
    expect(rec.configs[1]!.credentials).toEqual({ accessKeyId: 'AKIA1', secretAccessKey: 'secret-2' });
  });

  it('role.arn (or AWS_ROLE_ARN without a web identity token file) assumes the role: a credential provider', async () => {
    const rec = recording();
    await new AwsKmsDriver({ clientFactory: rec.factory, env: {} }).wrap(ARN, Uint8Array.of(1), { 'role.arn': 'arn:aws:iam::1:role/r' });
    expect(typeof rec.configs[0]!.credentials).toBe('function');
    const irsa = recording();
    await new AwsKmsDriver({ clientFactory: irsa.factory, env: { AWS_ROLE_ARN: 'arn:aws:iam::1:role/r', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' } }).wrap(
      ARN,
      Uint8Array.of(1),
      {},
    );
    expect(irsa.configs[0]!.credentials).toBeUndefined(); // the default chain does IRSA itself
    const envRole = recording();
    await new AwsKmsDriver({ clientFactory: envRole.factory, env: { AWS_ROLE_ARN: 'arn:aws:iam::1:role/r' } }).wrap(ARN, Uint8Array.of(1), {});
    expect(typeof envRole.configs[0]!.credentials).toBe('function');
  });

  it('profile uses the shared config files (a provider)', async () => {
    const rec = recording();
    await new AwsKmsDriver({ clientFactory: rec.factory, env: {} }).wrap(ARN, Uint8Array.of(1), { profile: 'kms' });
    expect(typeof rec.configs[0]!.credentials).toBe('function');
  });

  it('disabled key (DisabledException) -> KMS_KEY_DISABLED, and no DEK or secret in the error', async () => {
    const dek = canaryDek();
    const rec = recording(() => {
      throw sdkError('DisabledException', 400, { $request: { body: dek.toString('base64') } });
    });
    const driver = new AwsKmsDriver({ clientFactory: rec.factory, env: {} });
    const err = await rejection(driver.wrap(ARN, dek, { 'access.key.id': 'AKIA1', 'secret.access.key': 'canary-secret-0123' }));
    expect(err).toMatchObject({ code: 'KMS_KEY_DISABLED', transient: false });
    expectNoLeak(err, dek, 'canary-secret-0123');
  });
});
