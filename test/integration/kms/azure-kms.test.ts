// azure-kms driver against an HTTP fake of the Key Vault REST calls CryptographyClient makes
// (fakes/azure-keyvault-fake.ts). lowkey-vault (the Key Vault emulator) is not served by Maven Central
// here, so no real emulator runs. The real SDK runs unchanged (challenge auth, key fetch, encrypt /
// decrypt REST calls, error deserialization); only its HTTP client is pointed at the fake.
import { constants, publicEncrypt, createPublicKey } from 'node:crypto';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AzureKmsDriver, type AzureKmsOptions } from '../../../src/kms/azure-kms.js';
import { withMetrics, type KmsCallLabels } from '../../../src/kms/metrics.js';
import { withRetry } from '../../../src/kms/retry.js';
import { RecryptError } from '../../../src/util/errors.js';
import { canaryDek, expectNoLeak, rejection } from '../../unit/kms/leak-check.js';
import { AZURE_FAKE_TOKEN, AzureKeyVaultFake } from './fakes/azure-keyvault-fake.js';
import { closedPort } from './fakes/http-fake.js';

const dummyCredential = (token = AZURE_FAKE_TOKEN): TokenCredential => ({
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
});

/** Sends the SDK's https://<vault>.vault.azure.net requests to `target` instead. */
function redirectTo(target: () => string): HttpClient {
  const inner = createDefaultHttpClient();
  return {
    sendRequest: (request) => {
      // A copy: the SDK checks its challenge against the original request's host afterwards.
      const url = new URL(request.url);
      return inner.sendRequest({ ...request, url: `${target()}${url.pathname}${url.search}`, allowInsecureConnection: true });
    },
  };
}

describe('azure-kms driver (Key Vault REST fake)', () => {
  let fake: AzureKeyVaultFake;
  let keyId: string;
  let driver: AzureKmsDriver;
  const options = (extra: AzureKmsOptions = {}): AzureKmsOptions => ({
    credential: dummyCredential(),
    clientOptions: { httpClient: redirectTo(() => fake.http.url) },
    requestTimeoutMs: 5_000,
    ...extra,
  });

  beforeAll(async () => {
    fake = await new AzureKeyVaultFake().start();
    keyId = fake.createKey('kek1');
    driver = new AzureKmsDriver(options());
  });
  afterAll(() => fake.close());
  afterEach(() => fake.http.reset());

  it('wraps with RSA-OAEP-256 encrypt and unwraps with decrypt (the REST calls Confluent makes)', async () => {
    const dek = canaryDek();
    const wrapped = await driver.wrap(keyId, dek, {});
    expect(wrapped.length).toBe(256); // RSA-2048
    expect(Buffer.from(await driver.unwrap(keyId, wrapped, {})).equals(dek)).toBe(true);
    const posts = fake.http.calls.filter((c) => c.method === 'POST' && c.headers['authorization'] !== undefined);
    expect(posts.map((c) => c.path)).toEqual(['/keys/kek1/b86c2e6ad9054f4abf69cc185b99aa60/encrypt', '/keys/kek1/b86c2e6ad9054f4abf69cc185b99aa60/decrypt']);
    expect(posts[0]!.body).toEqual({ alg: 'RSA-OAEP-256', value: dek.toString('base64url') });
    expect(posts.every((c) => c.headers['authorization'] === `Bearer ${AZURE_FAKE_TOKEN}`)).toBe(true);
  });

  it('unwraps what any RSA-OAEP-256 (SHA-256) client wrote with the public key', async () => {
    const dek = canaryDek();
    const get = await fetch(`${fake.http.url}/keys/kek1/b86c2e6ad9054f4abf69cc185b99aa60?api-version=7.5`, {
      headers: { authorization: `Bearer ${AZURE_FAKE_TOKEN}` },
    });
    const jwk = ((await get.json()) as { key: { n: string; e: string } }).key;
    const publicKey = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dek);
    expect(Buffer.from(await driver.unwrap(keyId, wrapped, {})).equals(dek)).toBe(true);
  });

  it('caches one client per key and credential: the key is fetched once', async () => {
    const fresh = new AzureKmsDriver(options());
    const dek = canaryDek();
    const wrapped = await fresh.wrap(keyId, dek, {});
    await fresh.unwrap(keyId, wrapped, {});
    await fresh.unwrap(keyId, wrapped, {});
    expect(fake.http.calls.filter((c) => c.method === 'GET' && c.headers['authorization'] !== undefined)).toHaveLength(1);
  });

  it('builds a client-secret credential from tenant.id / client.id / client.secret props', async () => {
    const seen: string[][] = [];
    const withSecret = new AzureKmsDriver(
      options({
        credential: dummyCredential('not-accepted'),
        clientSecretCredential: (tenant, client, secret) => {
          seen.push([tenant, client, secret]);
          return dummyCredential();
        },
      }),
    );
    const props = { 'tenant.id': 't-1', 'client.id': 'c-1', 'client.secret': 's-1' };
    const dek = canaryDek();
    expect(Buffer.from(await withSecret.unwrap(keyId, await withSecret.wrap(keyId, dek, props), props)).equals(dek)).toBe(true);
    expect(seen).toEqual([['t-1', 'c-1', 's-1']]);
    // Without the props the driver's default credential is used (and here refused).
    expect(await rejection(withSecret.wrap(keyId, dek, {}))).toMatchObject({ code: 'KMS_ACCESS_DENIED' });
  });

  it('maps errors: 403, 404, disabled, bad ciphertext, 5xx', async () => {
    fake.createKey('forbidden');
    fake.setForbidden('forbidden', true);
    expect(await rejection(driver.wrap(fake.keyId('forbidden', 'b86c2e6ad9054f4abf69cc185b99aa60'), canaryDek(), {}))).toMatchObject({
      code: 'KMS_ACCESS_DENIED',
      transient: false,
    });
    expect(await rejection(driver.wrap(fake.keyId('missing', 'v1'), canaryDek(), {}))).toMatchObject({ code: 'KMS_KEY_NOT_FOUND', transient: false });
    const disabledId = fake.createKey('disabled');
    const wrapped = await driver.wrap(disabledId, canaryDek(), {});
    fake.setEnabled('disabled', false);
    expect(await rejection(driver.unwrap(disabledId, wrapped, {}))).toMatchObject({ code: 'KMS_KEY_DISABLED', transient: false });
    expect(await rejection(new AzureKmsDriver(options()).wrap(disabledId, canaryDek(), {}))).toMatchObject({ code: 'KMS_KEY_DISABLED' });
    const tampered = Buffer.from(await driver.wrap(keyId, canaryDek(), {}));
    tampered[10]! ^= 0xff;
    expect(await rejection(driver.unwrap(keyId, tampered, {}))).toMatchObject({ code: 'KMS_UNWRAP_FAILED', transient: false });
    fake.http.failNext(1, { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'try later' } }, match: /encrypt$/ });
    expect(await rejection(driver.wrap(keyId, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    fake.http.failNext(1, { status: 429, body: { error: { code: 'Throttled', message: 'Request was not processed because too many requests were received.' } }, match: /encrypt$/ });
    expect(await rejection(driver.wrap(keyId, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
  });

  it('malformed key ids are KMS_CONFIG', async () => {
    expect(await rejection(driver.wrap('http://vault.example/keys/k/v', canaryDek(), {}))).toMatchObject({ code: 'KMS_CONFIG' });
    expect(await rejection(driver.wrap('https://vault.example/secrets/k', canaryDek(), {}))).toMatchObject({ code: 'KMS_CONFIG' });
  });

  it('unreachable Key Vault -> KMS_UNAVAILABLE (transient)', async () => {
    const port = await closedPort();
    const down = new AzureKmsDriver(options({ clientOptions: { httpClient: redirectTo(() => `http://127.0.0.1:${port}`) } }));
    expect(await rejection(down.wrap(keyId, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
  });

  it('a failing token acquisition is not a DEK leak and not retried forever', async () => {
    const failing: TokenCredential = {
      getToken: async () => {
        const err = new Error('AADSTS7000215: Invalid client secret provided.');
        err.name = 'AuthenticationError';
        Object.assign(err, { statusCode: 401 });
        throw err;
      },
    };
    const denied = new AzureKmsDriver(options({ credential: failing }));
    const err = await rejection(denied.wrap(keyId, canaryDek(), {}));
    expect(err).toMatchObject({ code: 'KMS_ACCESS_DENIED', transient: false });
  });

  it('with the retry decorator: 5xx twice then success -> success after 3 calls', async () => {
    const counted: KmsCallLabels[] = [];
    const decorated = withRetry(withMetrics(driver, (l) => counted.push(l)), { attempts: 3, baseMs: 1, maxMs: 5 });
    fake.http.failNext(2, { status: 500, body: { error: { code: 'InternalServerError', message: 'oops' } }, match: /decrypt$/ });
    const dek = canaryDek();
    const wrapped = await driver.wrap(keyId, dek, {});
    fake.http.reset();
    fake.http.failNext(2, { status: 500, body: { error: { code: 'InternalServerError', message: 'oops' } }, match: /decrypt$/ });
    expect(Buffer.from(await decorated.unwrap(keyId, wrapped, {})).equals(dek)).toBe(true);
    expect(fake.http.callsTo(/decrypt$/)).toHaveLength(3);
    expect(counted.map((l) => l.outcome)).toEqual(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE', 'ok']);
  });

  it('canary: the DEK and client secret never appear in errors (the SDK error carries the request body)', async () => {
    const dek = canaryDek();
    const errors: unknown[] = [];
    for (const status of [400, 403, 404, 500, 503]) {
      fake.http.failNext(1, { status, body: { error: { code: 'X', message: `echo ${dek.toString('base64url')}` } }, match: /encrypt$/ });
      errors.push(await rejection(driver.wrap(keyId, dek, {})));
    }
    const secret = 'canary-client-secret-0123456789';
    const leaky = new AzureKmsDriver(
      options({
        clientSecretCredential: () => ({
          getToken: async () => {
            throw Object.assign(new Error(`bad secret ${secret}`), { name: 'AuthenticationError', statusCode: 401 });
          },
        }),
      }),
    );
    errors.push(await rejection(leaky.wrap(keyId, dek, { 'tenant.id': 't', 'client.id': 'c', 'client.secret': secret })));
    for (const err of errors) {
      expect(err).toBeInstanceOf(RecryptError);
      expectNoLeak(err, dek, secret);
    }
  });
});
