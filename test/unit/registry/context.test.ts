// Schema Registry contexts in recrypt's registry clients: the context of a qualified subject as
// Confluent's clients derive it (contextFor in encrypt_executor.go / encrypt-executor.ts, July 2026), and
// the KEK requests they make with it (`GET /keks/{name}?deleted=..&context=..`, `POST /keks?context=..`).
import { afterEach, describe, expect, it } from 'vitest';
import { contextOfSubject } from '../../../src/registry/index.js';
import { DekRegistryClient } from '../../../src/registry/dek-registry-client.js';
import { SchemaRegistryClient } from '../../../src/registry/schema-registry-client.js';
import { startTestServer, type TestServer } from './test-server.js';

let server: TestServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

describe('contextOfSubject', () => {
  it.each([
    [':.team:orders-value', '.team'],
    [':.team.eu:orders-value', '.team.eu'],
    [':.team:', '.team'],
    [':.team', '.team'],
    [':.:orders-value', undefined],
    ['orders-value', undefined],
    ['orders:.team:value', undefined],
    [':team:orders-value', undefined],
  ])('%s -> %s', (subject, context) => {
    expect(contextOfSubject(subject)).toBe(context);
  });
});

describe('DekRegistryClient with a context', () => {
  it('asks for the KEK in the context with ?context=, and without it in the default context', async () => {
    server = await startTestServer(() => ({ status: 200, body: { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false } }));
    const client = new DekRegistryClient({ baseUrls: server.url });
    await client.getKek('kek1', false, '.team');
    await client.getKek('kek1');
    await client.createKek({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey' }, '.team');
    await client.createKek({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey' });
    await client.getDek('kek1', ':.team:orders-value', 1, 'AES256_GCM');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /dek-registry/v1/keks/kek1?deleted=false&context=.team',
      'GET /dek-registry/v1/keks/kek1?deleted=false',
      'POST /dek-registry/v1/keks?context=.team',
      'POST /dek-registry/v1/keks',
      // the DEK keeps the qualified subject, encoded in its path segment
      'GET /dek-registry/v1/keks/kek1/deks/%3A.team%3Aorders-value/versions/1?algorithm=AES256_GCM&deleted=false',
    ]);
    expect(JSON.parse(server.requests[2]!.body)).toEqual({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
  });

  it('a qualified subject is one path segment in the Schema Registry calls', async () => {
    server = await startTestServer(() => ({ status: 200, body: { subject: ':.team:orders-value', version: 1, id: 3, schema: '"string"' } }));
    await new SchemaRegistryClient({ baseUrls: server.url }).getLatest(':.team:orders-value');
    expect(server.requests[0]!.url).toBe('/subjects/%3A.team%3Aorders-value/versions/latest');
  });
});
