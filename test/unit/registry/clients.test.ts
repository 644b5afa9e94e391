import { afterEach, describe, expect, it } from 'vitest';
import { DekRegistryClient } from '../../../src/registry/dek-registry-client.js';
import { RegistryError } from '../../../src/registry/registry-error.js';
import { SchemaRegistryClient } from '../../../src/registry/schema-registry-client.js';
import { startTestServer, type Recorded, type Reply, type TestServer } from './test-server.js';

const servers: TestServer[] = [];
async function server(script: (req: Recorded, i: number) => Reply): Promise<TestServer> {
  const s = await startTestServer(script);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const noSleep = { sleep: async () => undefined, retryBaseMs: 1 };

describe('SchemaRegistryClient', () => {
  it('caches schemas by id forever and fetches concurrent identical GETs once', async () => {
    const s = await server(() => ({ status: 200, body: { schema: '"string"', guid: 'g-1' }, delayMs: 30 }));
    const c = new SchemaRegistryClient({ baseUrls: s.url, ...noSleep });
    const all = await Promise.all(Array.from({ length: 10 }, () => c.getById(5, 'orders-value')));
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.url).toBe('/schemas/ids/5?subject=orders-value');
    expect(all[0]).toEqual({ id: 5, guid: 'g-1', schema: '"string"' });
    await c.getById(5, 'orders-value');
    expect(s.requests).toHaveLength(1);
    // the GUID cache was filled by the id lookup
    await expect(c.getByGuid('g-1')).resolves.toMatchObject({ id: 5 });
    expect(s.requests).toHaveLength(1);
  });

  it('does not cache failures', async () => {
    const s = await server((_r, i) => (i === 0 ? { status: 404, body: { error_code: 40403, message: 'Schema not found' } } : { status: 200, body: { schema: '"int"' } }));
    const c = new SchemaRegistryClient({ baseUrls: s.url, ...noSleep });
    await expect(c.getById(9)).rejects.toMatchObject({ code: 'REGISTRY_NOT_FOUND', errorCode: 40403 });
    await expect(c.getById(9)).resolves.toMatchObject({ id: 9, schema: '"int"' });
    expect(s.requests[0]?.url).toBe('/schemas/ids/9');
  });

  it('caches latest for the TTL only', async () => {
    let version = 1;
    const s = await server(() => ({ status: 200, body: { subject: 'a', version, id: version, schema: '"string"' } }));
    let now = 1_000;
    const c = new SchemaRegistryClient({ baseUrls: s.url, latestTtlMs: 5_000, now: () => now, ...noSleep });
    expect((await c.getLatest('a')).version).toBe(1);
    version = 2;
    expect((await c.getLatest('a')).version).toBe(1);
    now += 5_001;
    expect((await c.getLatest('a')).version).toBe(2);
    expect(s.requests.map((r) => r.url)).toEqual(['/subjects/a/versions/latest', '/subjects/a/versions/latest']);
  });

  it('looks up metadata with repeated key/value parameters and caches with the TTL', async () => {
    const s = await server(() => ({ status: 200, body: { subject: 'a b', version: 3, id: 4, schema: '"string"', metadata: { properties: { app: 'x', env: 'p' } } } }));
    const c = new SchemaRegistryClient({ baseUrls: s.url, ...noSleep });
    const got = await c.getLatestWithMetadata('a b', { env: 'p', app: 'x' });
    await c.getLatestWithMetadata('a b', { app: 'x', env: 'p' });
    expect(got).toMatchObject({ id: 4, version: 3, subject: 'a b' });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.url).toBe('/subjects/a%20b/metadata?deleted=false&key=app&key=env&value=x&value=p');
  });

  it('registers with the SchemaInfo fields only and caches the result', async () => {
    const s = await server(() => ({ status: 200, body: { id: 12, guid: 'g', version: 2 } }));
    const c = new SchemaRegistryClient({ baseUrls: s.url, ...noSleep });
    const info = { schemaType: 'AVRO' as const, schema: '"string"', ruleSet: { domainRules: [{ name: 'enc', type: 'ENCRYPT' }] } };
    const r = await c.register('orders-value', { ...info, id: 99 } as never);
    expect(r).toMatchObject({ id: 12, guid: 'g', version: 2, subject: 'orders-value', schema: '"string"' });
    expect(JSON.parse(s.requests[0]!.body)).toEqual(info);
    expect(s.requests[0]?.url).toBe('/subjects/orders-value/versions?normalize=false');
    await c.register('orders-value', info);
    expect(s.requests).toHaveLength(1);
  });

  it('getVersion(-1) reads latest; other versions are cached', async () => {
    const s = await server((r) => ({ status: 200, body: { subject: 's', version: r.url.includes('latest') ? 9 : 2, id: 1, schema: '"string"' } }));
    const c = new SchemaRegistryClient({ baseUrls: s.url, ...noSleep });
    expect((await c.getVersion('s', -1)).version).toBe(9);
    expect((await c.getVersion('s', 2)).version).toBe(2);
    await c.getVersion('s', 2);
    expect(s.requests.map((r) => r.url)).toEqual(['/subjects/s/versions/latest', '/subjects/s/versions/2']);
  });
});

describe('DekRegistryClient', () => {
  it('getKek and getDek return null on 404', async () => {
    const s = await server(() => ({ status: 404, body: { error_code: 40470, message: "Key 'k' not found" } }));
    const c = new DekRegistryClient({ baseUrls: s.url, ...noSleep });
    await expect(c.getKek('k')).resolves.toBeNull();
    await expect(c.getDek('k', 'orders-value', -1, 'AES256_GCM', true)).resolves.toBeNull();
    expect(s.requests.map((r) => r.url)).toEqual([
      '/dek-registry/v1/keks/k?deleted=false',
      '/dek-registry/v1/keks/k/deks/orders-value/versions/-1?algorithm=AES256_GCM&deleted=true',
    ]);
  });

  it('createKek and createDek throw REGISTRY_CONFLICT on 409', async () => {
    const s = await server(() => ({ status: 409, body: { error_code: 40971, message: 'exists' } }));
    const c = new DekRegistryClient({ baseUrls: s.url, ...noSleep });
    await expect(c.createKek({ name: 'k', kmsType: 'local-kms', kmsKeyId: 'x' })).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT', status: 409, errorCode: 40971 });
    const err = await c.createDek('k', { subject: 's', encryptedKeyMaterial: 'AAAA' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('REGISTRY_CONFLICT');
    expect(JSON.parse(s.requests[1]!.body)).toEqual({ subject: 's', version: 1, algorithm: 'AES256_GCM', encryptedKeyMaterial: 'AAAA' });
  });

  it('createDek posts to /deks/{subject} and falls back to /deks on 405', async () => {
    const s = await server((r) =>
      r.url.endsWith('/deks/my%2Fsubject')
        ? { status: 405, body: { error_code: 405, message: 'HTTP 405 Method Not Allowed' } }
        : { status: 200, body: { kekName: 'k', subject: 'my/subject', version: 2, algorithm: 'AES256_SIV', encryptedKeyMaterial: 'QUJD', keyMaterial: 'REVG', ts: 5 } },
    );
    const c = new DekRegistryClient({ baseUrls: s.url, ...noSleep });
    const dek = await c.createDek('k', { subject: 'my/subject', version: 2, algorithm: 'AES256_SIV' });
    expect(dek).toEqual({ kekName: 'k', subject: 'my/subject', version: 2, algorithm: 'AES256_SIV', encryptedKeyMaterial: 'QUJD', keyMaterial: 'REVG', ts: 5 });
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /dek-registry/v1/keks/k/deks/my%2Fsubject', 'POST /dek-registry/v1/keks/k/deks']);
  });

  it('rewrapDek posts the DEK with rewrap=true and its deleted flag; rekeyKek posts to the dev registry\'s x-recrypt-rekey', async () => {
    const s = await server(() => ({ status: 200, body: {} }));
    const c = new DekRegistryClient({ baseUrls: s.url, ...noSleep });
    await c.rewrapDek('k 1', { subject: 'my/subject', version: 3, algorithm: 'AES256_SIV', encryptedKeyMaterial: 'QUJD', deleted: true });
    await c.rekeyKek('k 1', { kmsType: 'aws-kms', kmsKeyId: 'arn:new', deks: [{ subject: 's', version: 1, algorithm: 'AES256_GCM', encryptedKeyMaterial: 'REVG' }] });
    await c.rekeyKek('k', { kmsType: 'aws-kms', kmsKeyId: 'arn:new', kmsProps: { region: 'eu' }, deks: [] });
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /dek-registry/v1/keks/k%201/deks/my%2Fsubject?rewrap=true',
      'POST /dek-registry/v1/keks/k%201/x-recrypt-rekey',
      'POST /dek-registry/v1/keks/k/x-recrypt-rekey',
    ]);
    expect(JSON.parse(s.requests[0]!.body)).toEqual({ subject: 'my/subject', version: 3, algorithm: 'AES256_SIV', encryptedKeyMaterial: 'QUJD', deleted: true });
    expect(JSON.parse(s.requests[1]!.body)).toEqual({ kmsType: 'aws-kms', kmsKeyId: 'arn:new', deks: [{ subject: 's', version: 1, algorithm: 'AES256_GCM', encryptedKeyMaterial: 'REVG' }] });
    expect(JSON.parse(s.requests[2]!.body)).toEqual({ kmsType: 'aws-kms', kmsKeyId: 'arn:new', kmsProps: { region: 'eu' }, deks: [] });
  });

  it('sends delete, undelete and update requests where Confluent expects them', async () => {
    const s = await server((r) => (r.method === 'PUT' ? { status: 200, body: { name: 'k', kmsType: 'local-kms', kmsKeyId: 'x', shared: true, doc: 'd' } } : { status: 204 }));
    const c = new DekRegistryClient({ baseUrls: s.url, ...noSleep });
    await c.deleteKek('k');
    await c.deleteKek('k', true);
    await c.undeleteKek('k');
    await c.deleteDek('k', 's', 'AES256_GCM', true);
    await c.deleteDekVersion('k', 's', 2);
    await c.undeleteDek('k', 's');
    await c.undeleteDekVersion('k', 's', 2, 'AES128_GCM');
    await expect(c.updateKek('k', { shared: true, doc: 'd' })).resolves.toMatchObject({ shared: true, doc: 'd' });
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'DELETE /dek-registry/v1/keks/k?permanent=false',
      'DELETE /dek-registry/v1/keks/k?permanent=true',
      'POST /dek-registry/v1/keks/k/undelete',
      'DELETE /dek-registry/v1/keks/k/deks/s?algorithm=AES256_GCM&permanent=true',
      'DELETE /dek-registry/v1/keks/k/deks/s/versions/2?permanent=false',
      'POST /dek-registry/v1/keks/k/deks/s/undelete',
      'POST /dek-registry/v1/keks/k/deks/s/versions/2/undelete?algorithm=AES128_GCM',
      'PUT /dek-registry/v1/keks/k',
    ]);
  });
});
