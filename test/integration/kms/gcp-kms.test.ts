// gcp-kms driver against an HTTP fake of Cloud KMS's REST API (fakes/gcp-kms-fake.ts), reached through
// the official client's HTTP/1.1 REST fallback with the endpoint override (GCP_KMS_ENDPOINT or the
// `endpoint` prop). No Cloud KMS emulator installs from the registries this machine reaches.
// Authentication uses a dummy bearer-token auth client; ADC and service-account props are not
// exercised against Google (no network here).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GcpKmsDriver, type GcpKmsOptions } from '../../../src/kms/gcp-kms.js';
import { withMetrics, type KmsCallLabels } from '../../../src/kms/metrics.js';
import { withRetry } from '../../../src/kms/retry.js';
import { RecryptError } from '../../../src/util/errors.js';
import { canaryDek, expectNoLeak, rejection } from '../../unit/kms/leak-check.js';
import { GCP_FAKE_TOKEN, GcpKmsFake } from './fakes/gcp-kms-fake.js';
import { closedPort } from './fakes/http-fake.js';

/** The smallest auth client google-gax's REST fallback accepts: adds a bearer token to each fetch. */
function bearerAuthClient(token = GCP_FAKE_TOKEN): NonNullable<GcpKmsOptions['clientOptions']>['authClient'] {
  const client = {
    getRequestHeaders: async () => new Headers({ authorization: `Bearer ${token}` }),
    fetch: (url: string, init: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: string | Buffer; signal?: AbortSignal }) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(url, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: init.body }), ...(init.signal ? { signal: init.signal } : {}) });
    },
  };
  return client as unknown as NonNullable<GcpKmsOptions['clientOptions']>['authClient'];
}

const KEY = 'projects/recrypt/locations/global/keyRings/ring1/cryptoKeys/kek1';

describe('gcp-kms driver (Cloud KMS REST fake via the client\'s REST fallback)', () => {
  let fake: GcpKmsFake;
  let driver: GcpKmsDriver;
  const options = (extra: GcpKmsOptions = {}): GcpKmsOptions => ({
    env: { GCP_KMS_ENDPOINT: fake.http.url },
    clientOptions: { authClient: bearerAuthClient() },
    requestTimeoutMs: 5_000,
    ...extra,
  });

  beforeAll(async () => {
    fake = await new GcpKmsFake().start();
    fake.createKey(KEY);
    driver = new GcpKmsDriver(options());
  });
  afterAll(() => fake.close());
  afterEach(() => fake.http.reset());

  it('wraps with :encrypt and unwraps with :decrypt (GCP_KMS_ENDPOINT=http://... implies the REST fallback)', async () => {
    const dek = canaryDek();
    const wrapped = await driver.wrap(KEY, dek, {});
    expect(Buffer.from(await driver.unwrap(KEY, wrapped, {})).equals(dek)).toBe(true);
    expect(fake.http.calls.map((c) => `${c.method} ${c.path}`)).toEqual([`POST /v1/${KEY}:encrypt`, `POST /v1/${KEY}:decrypt`]);
    expect(fake.http.calls[0]!.body).toEqual({ plaintext: dek.toString('base64') });
    expect(fake.http.calls[1]!.body).toEqual({ ciphertext: Buffer.from(wrapped).toString('base64') });
  });

  it('takes the endpoint and fallback from props too', async () => {
    const viaProps = new GcpKmsDriver({ env: {}, clientOptions: { authClient: bearerAuthClient() } });
    const dek = canaryDek();
    const props = { endpoint: fake.http.url, fallback: 'rest' };
    expect(Buffer.from(await viaProps.unwrap(KEY, await viaProps.wrap(KEY, dek, props), props)).equals(dek)).toBe(true);
  });

  it('maps errors: 401, 403, 404, disabled version, tampered ciphertext, 5xx', async () => {
    const unauth = new GcpKmsDriver(options({ clientOptions: { authClient: bearerAuthClient('wrong') } }));
    expect(await rejection(unauth.wrap(KEY, canaryDek(), {}))).toMatchObject({ code: 'KMS_ACCESS_DENIED', transient: false });

    const forbidden = fake.createKey('projects/recrypt/locations/global/keyRings/ring1/cryptoKeys/forbidden');
    fake.setForbidden(forbidden, true);
    expect(await rejection(driver.wrap(forbidden, canaryDek(), {}))).toMatchObject({ code: 'KMS_ACCESS_DENIED', transient: false });

    const missing = 'projects/recrypt/locations/global/keyRings/ring1/cryptoKeys/missing';
    expect(await rejection(driver.wrap(missing, canaryDek(), {}))).toMatchObject({ code: 'KMS_KEY_NOT_FOUND', transient: false });

    const disabled = fake.createKey('projects/recrypt/locations/global/keyRings/ring1/cryptoKeys/disabled');
    const wrapped = await driver.wrap(disabled, canaryDek(), {});
    fake.setVersionState(disabled, 1, 'DISABLED');
    expect(await rejection(driver.unwrap(disabled, wrapped, {}))).toMatchObject({ code: 'KMS_KEY_DISABLED', transient: false });
    expect(await rejection(driver.wrap(disabled, canaryDek(), {}))).toMatchObject({ code: 'KMS_KEY_DISABLED' });

    const tampered = Buffer.from(await driver.wrap(KEY, canaryDek(), {}));
    tampered[tampered.length - 1]! ^= 1;
    expect(await rejection(driver.unwrap(KEY, tampered, {}))).toMatchObject({ code: 'KMS_UNWRAP_FAILED', transient: false });

    fake.http.failNext(1, { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } });
    expect(await rejection(driver.wrap(KEY, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    fake.http.failNext(1, { status: 429, body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } } });
    expect(await rejection(driver.wrap(KEY, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    fake.http.failNext(1, { status: 500, body: { error: { code: 500, message: 'Internal error' } } });
    expect(await rejection(driver.wrap(KEY, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
  });

  it('malformed key names and endpoints are KMS_CONFIG without a call', async () => {
    expect(await rejection(driver.wrap('projects/p/keyRings/r/cryptoKeys/k', canaryDek(), {}))).toMatchObject({ code: 'KMS_CONFIG' });
    expect(await rejection(driver.wrap(KEY, canaryDek(), { endpoint: 'ftp://x/y/z' }))).toMatchObject({ code: 'KMS_CONFIG' });
    expect(fake.http.calls).toHaveLength(0);
  });

  it('unreachable endpoint -> KMS_UNAVAILABLE (transient)', async () => {
    const down = new GcpKmsDriver(options({ env: { GCP_KMS_ENDPOINT: `http://127.0.0.1:${await closedPort()}` } }));
    expect(await rejection(down.wrap(KEY, canaryDek(), {}))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
  });

  it('with the retry decorator: 5xx twice then success -> success after 3 calls', async () => {
    const counted: KmsCallLabels[] = [];
    const decorated = withRetry(withMetrics(driver, (l) => counted.push(l)), { attempts: 3, baseMs: 1, maxMs: 5 });
    fake.http.failNext(2, { status: 503, body: { error: { code: 503, message: 'unavailable', status: 'UNAVAILABLE' } } });
    const dek = canaryDek();
    const wrapped = await decorated.wrap(KEY, dek, {});
    expect(fake.http.callsTo(/:encrypt$/)).toHaveLength(3);
    expect(counted.map((l) => l.outcome)).toEqual(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE', 'ok']);
    expect(Buffer.from(await decorated.unwrap(KEY, wrapped, {})).equals(dek)).toBe(true);
  });

  it('canary: the DEK never appears in errors (even when the KMS echoes it)', async () => {
    const dek = canaryDek();
    const errors: unknown[] = [];
    for (const [status, name] of [[400, 'INVALID_ARGUMENT'], [403, 'PERMISSION_DENIED'], [404, 'NOT_FOUND'], [500, 'INTERNAL'], [503, 'UNAVAILABLE']] as const) {
      fake.http.failNext(1, { status, body: { error: { code: status, message: `echo ${dek.toString('base64')}`, status: name } } });
      errors.push(await rejection(driver.wrap(KEY, dek, {})));
    }
    for (const err of errors) {
      expect(err).toBeInstanceOf(RecryptError);
      expectNoLeak(err, dek);
    }
  });
});
