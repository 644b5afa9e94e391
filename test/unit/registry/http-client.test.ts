import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryHttpClient, backoffDelay, buildQuery } from '../../../src/registry/http-client.js';
import { RegistryError } from '../../../src/registry/registry-error.js';
import { RecryptError } from '../../../src/util/errors.js';
import { deadUrl, startTestServer, type Reply, type TestServer } from './test-server.js';

const servers: TestServer[] = [];
async function server(script: (req: { method: string; url: string }, i: number) => Reply): Promise<TestServer> {
  const s = await startTestServer(script);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A client whose sleeps are recorded instead of waited. */
function client(baseUrls: string[] | string, extra: Partial<ConstructorParameters<typeof RegistryHttpClient>[0]> = {}) {
  const sleeps: number[] = [];
  const c = new RegistryHttpClient({
    baseUrls,
    retryBaseMs: 100,
    retryMaxMs: 1_000,
    maxRetries: 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { c, sleeps };
}

async function caught(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryError);
    return err as RegistryError;
  }
  throw new Error('expected a RegistryError');
}

describe('RegistryHttpClient retries', () => {
  it('retries 5xx with backoff and then succeeds', async () => {
    const s = await server((_r, i) => (i < 2 ? { status: 503, body: { error_code: 50003, message: 'forwarding failed' } } : { status: 200, body: { id: 7 } }));
    const { c, sleeps } = client(s.url);
    await expect(c.request('GET', '/schemas/ids/7')).resolves.toEqual({ id: 7 });
    expect(s.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThan(100);
    expect(sleeps[1]).toBeLessThan(200);
  });

  it('retries 429 and 408 (throttling, request timeout)', async () => {
    const s = await server((_r, i) => (i === 0 ? { status: 429 } : i === 1 ? { status: 408 } : { status: 200, body: [] }));
    const { c } = client(s.url);
    await expect(c.request('GET', '/subjects')).resolves.toEqual([]);
    expect(s.requests).toHaveLength(3);
  });

  it('gives up after maxRetries with a transient REGISTRY_UNAVAILABLE', async () => {
    const s = await server(() => ({ status: 500, body: { error_code: 50001, message: 'store error' } }));
    const { c, sleeps } = client(s.url, { maxRetries: 2 });
    const err = await caught(c.request('GET', '/subjects/a/versions/latest'));
    expect(err.code).toBe('REGISTRY_UNAVAILABLE');
    expect(err.transient).toBe(true);
    expect(err.status).toBe(500);
    expect(err.errorCode).toBe(50001);
    expect(s.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it.each([
    [400, 400, 'REGISTRY_INVALID'],
    [404, 40401, 'REGISTRY_NOT_FOUND'],
    [404, 40470, 'REGISTRY_NOT_FOUND'],
    [409, 40971, 'REGISTRY_CONFLICT'],
    [422, 42201, 'REGISTRY_INVALID'],
    [401, 401, 'REGISTRY_AUTH'],
    [403, 40301, 'REGISTRY_AUTH'],
  ] as const)('never retries %i (error_code %i) and maps it to %s', async (status, errorCode, code) => {
    const s = await server(() => ({ status, body: { error_code: errorCode, message: 'nope' } }));
    const { c, sleeps } = client(s.url);
    const err = await caught(c.request('POST', '/subjects/x/versions', { body: { schema: '"string"' } }));
    expect(err.code).toBe(code);
    expect(err.transient).toBe(false);
    expect(err.status).toBe(status);
    expect(err.errorCode).toBe(errorCode);
    expect(s.requests).toHaveLength(1);
    expect(sleeps).toHaveLength(0);
  });

  it('keeps response bodies out of messages (they may carry key material)', async () => {
    const secret = 'c2VjcmV0LWtleS1tYXRlcmlhbA==';
    const s = await server(() => ({ status: 422, body: { error_code: 42271, message: `bad key ${secret}`, keyMaterial: secret } }));
    const { c } = client(s.url);
    const err = await caught(c.request('POST', '/dek-registry/v1/keks/k/deks/s', { body: { subject: 's' }, query: { x: 'q' } }));
    expect(err.message).toBe('POST /dek-registry/v1/keks/k/deks/s: HTTP 422, error_code 42271');
    expect(err.toString()).not.toContain(secret);
    expect(JSON.stringify({ ...err, cause: undefined })).not.toContain(secret);
    expect(err.toString()).not.toContain('x=q');
  });

  it('maps an error response without a Confluent body by its status alone', async () => {
    const s = await server(() => ({ status: 502, text: '<html>bad gateway</html>' }));
    const { c } = client(s.url, { maxRetries: 0 });
    const err = await caught(c.request('GET', '/subjects'));
    expect(err.code).toBe('REGISTRY_UNAVAILABLE');
    expect(err.errorCode).toBeUndefined();
    expect(err.message).toBe('GET /subjects: HTTP 502');
  });

  it('retries connection refused, then reports REGISTRY_UNAVAILABLE', async () => {
    const dead = await deadUrl();
    const { c, sleeps } = client(dead, { maxRetries: 2 });
    const err = await caught(c.request('GET', '/subjects'));
    expect(err.code).toBe('REGISTRY_UNAVAILABLE');
    expect(err.transient).toBe(true);
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(/^GET \/subjects: connection failed \(ECONNREFUSED\)$/);
    expect(sleeps).toHaveLength(2);
  });

  it('times out a slow request and retries it', async () => {
    const s = await server((_r, i) => (i === 0 ? { status: 200, body: [1], delayMs: 500 } : { status: 200, body: [2] }));
    const { c, sleeps } = client(s.url, { timeoutMs: 100 });
    await expect(c.request('GET', '/subjects/a/versions')).resolves.toEqual([2]);
    expect(sleeps).toHaveLength(1);
  });

  it('reports a timeout as transient REGISTRY_UNAVAILABLE', async () => {
    const s = await server(() => ({ status: 200, body: [], delayMs: 400 }));
    const { c } = client(s.url, { timeoutMs: 80, maxRetries: 0 });
    const err = await caught(c.request('GET', '/subjects'));
    expect(err.code).toBe('REGISTRY_UNAVAILABLE');
    expect(err.message).toContain('timed out after 80 ms');
  });

  it('does not retry when the caller aborts', async () => {
    const s = await server(() => ({ status: 200, body: [], delayMs: 400 }));
    const { c, sleeps } = client(s.url);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const err = await caught(c.request('GET', '/subjects', { signal: ac.signal }));
    expect(err.transient).toBe(false);
    expect(sleeps).toHaveLength(0);
    expect(s.requests).toHaveLength(1);
  });
});

describe('RegistryHttpClient base URLs', () => {
  it('moves on to the next URL on a connection error without sleeping, and sticks to the one that worked', async () => {
    const dead = await deadUrl();
    const s = await server(() => ({ status: 200, body: ['a'] }));
    const { c, sleeps } = client([dead, s.url]);
    await expect(c.request('GET', '/subjects')).resolves.toEqual(['a']);
    await expect(c.request('GET', '/subjects')).resolves.toEqual(['a']);
    expect(sleeps).toHaveLength(0);
    expect(s.requests).toHaveLength(2);
  });

  it('moves on to the next URL on 5xx, but not on 4xx', async () => {
    const bad = await server(() => ({ status: 503 }));
    const good = await server((r) => (r.url.startsWith('/missing') ? { status: 404, body: { error_code: 40401, message: 'x' } } : { status: 200, body: { ok: true } }));
    const { c } = client([bad.url, good.url]);
    await expect(c.request('GET', '/config')).resolves.toEqual({ ok: true });
    const err = await caught(c.request('GET', '/missing'));
    expect(err.code).toBe('REGISTRY_NOT_FOUND');
    expect(good.requests).toHaveLength(2);
    expect(bad.requests).toHaveLength(1);
  });

  it('accepts a comma-separated list and strips trailing slashes', async () => {
    const s = await server(() => ({ status: 200, body: {} }));
    const { c } = client(` ${s.url}/ , ${s.url}`);
    expect(c.urls).toEqual([s.url, s.url]);
    await c.request('GET', '/config');
    expect(s.requests[0]?.url).toBe('/config');
  });

  it('rejects an empty or non-http base URL list with CONFIG_INVALID', () => {
    expect(() => new RegistryHttpClient({ baseUrls: [] })).toThrow(RecryptError);
    expect(() => new RegistryHttpClient({ baseUrls: 'ftp://x' })).toThrow(/http or https/);
  });
});

describe('RegistryHttpClient headers and auth', () => {
  it('sends the Schema Registry content type with JSON bodies, and query parameters', async () => {
    const s = await server(() => ({ status: 200, body: { id: 1 } }));
    const { c } = client(s.url);
    await c.request('POST', '/subjects/a%2Fb/versions', { body: { schema: '"string"' }, query: { normalize: false, key: ['k1', 'k2'], skip: undefined } });
    const req = s.requests[0]!;
    expect(req.headers['content-type']).toBe('application/vnd.schemaregistry.v1+json');
    expect(req.headers['accept']).toContain('application/vnd.schemaregistry.v1+json');
    expect(req.url).toBe('/subjects/a%2Fb/versions?normalize=false&key=k1&key=k2');
    expect(JSON.parse(req.body)).toEqual({ schema: '"string"' });
    expect(req.headers['authorization']).toBeUndefined();
  });

  it('sends basic auth', async () => {
    const s = await server(() => ({ status: 200, body: [] }));
    const { c } = client(s.url, { basicAuth: 'key:se:cret' });
    await c.request('GET', '/subjects');
    expect(s.requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('key:se:cret').toString('base64')}`);
  });

  it('takes basic auth credentials embedded in the URL out of the URL', async () => {
    const s = await server(() => ({ status: 200, body: [] }));
    const withCreds = s.url.replace('http://', 'http://us%40er:p%3Ass@');
    const { c } = client(withCreds);
    expect(c.urls[0]).toBe(s.url);
    await c.request('GET', '/subjects');
    expect(s.requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
  });

  it('sends a bearer token, static or from a provider, plus extra headers', async () => {
    const s = await server(() => ({ status: 200, body: [] }));
    let n = 0;
    const { c } = client(s.url, { bearerToken: () => `tok${++n}`, headers: { 'target-sr-cluster': 'lsrc-1', 'Confluent-Identity-Pool-Id': 'pool-1' } });
    await c.request('GET', '/subjects');
    await c.request('GET', '/subjects');
    expect(s.requests.map((r) => r.headers['authorization'])).toEqual(['Bearer tok1', 'Bearer tok2']);
    expect(s.requests[0]?.headers['target-sr-cluster']).toBe('lsrc-1');
    expect(s.requests[0]?.headers['confluent-identity-pool-id']).toBe('pool-1');
    const { c: c2 } = client(s.url, { bearerToken: 'static' });
    await c2.request('GET', '/subjects');
    expect(s.requests[2]?.headers['authorization']).toBe('Bearer static');
  });

  it('refuses basic and bearer together', () => {
    expect(() => new RegistryHttpClient({ baseUrls: 'http://x', basicAuth: 'a:b', bearerToken: 't' })).toThrow(/not both/);
  });

  it('returns undefined for 204 and empty bodies', async () => {
    const s = await server(() => ({ status: 204 }));
    const { c } = client(s.url);
    await expect(c.request('DELETE', '/dek-registry/v1/keks/k')).resolves.toBeUndefined();
  });
});

describe('backoffDelay (full jitter)', () => {
  it('stays in [0, min(max, base * 2^retry))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, base, max, r) => {
        const d = backoffDelay(retry, base, max, () => r);
        const ceiling = Math.min(max, base * 2 ** retry);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }),
    );
  });

  it('grows exponentially up to the cap', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, 100, 10_000, top)).toBe(99);
    expect(backoffDelay(3, 100, 10_000, top)).toBe(799);
    expect(backoffDelay(20, 100, 10_000, top)).toBe(9_999);
    expect(backoffDelay(5, 100, 10_000, () => 0)).toBe(0);
  });

  it('uses real randomness by default and spreads retries', () => {
    const samples = Array.from({ length: 200 }, () => backoffDelay(4, 100, 10_000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(1_600);
    expect(new Set(samples).size).toBeGreaterThan(50);
  });
});

describe('buildQuery', () => {
  it('skips undefined values and repeats array keys', () => {
    expect(buildQuery({ a: 1, b: undefined, c: ['x', 'y z'], d: true })).toBe('?a=1&c=x&c=y+z&d=true');
    expect(buildQuery({})).toBe('');
  });
});
