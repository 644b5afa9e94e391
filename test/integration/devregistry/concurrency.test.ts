// Concurrent creates of one DEK (or KEK) give exactly one winner and 409 to the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevRegistry } from '../../../src/devregistry/server.js';
import { DekRegistryClient } from '../../../src/registry/dek-registry-client.js';
import { call, start, tempDir, uniq } from './helpers.js';

let registry: DevRegistry;
let data: ReturnType<typeof tempDir>;
beforeAll(async () => {
  data = tempDir();
  registry = await start(data.dir);
});
afterAll(async () => {
  await registry.close();
  data.remove();
});

async function createKek(shared: boolean): Promise<string> {
  const name = uniq('kek');
  expect((await call(registry.url, 'POST', '/dek-registry/v1/keks', { name, kmsType: 'local-kms', kmsKeyId: 'mykey', shared })).status).toBe(200);
  return name;
}

describe('concurrent DEK creation', () => {
  it.each([false, true])('50 parallel creates of one DEK (shared KEK: %s): one 200, 49 x 409/40971, one stored version', async (shared) => {
    const kek = await createKek(shared);
    const subject = `${uniq('topic')}-value`;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(registry.url, 'POST', `/dek-registry/v1/keks/${kek}/deks/${subject}`, {
          subject,
          version: 1,
          algorithm: 'AES256_GCM',
          ...(shared ? {} : { encryptedKeyMaterial: Buffer.from(`wrapped-by-writer-${i}`).toString('base64') }),
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const conflicts = results.filter((r) => r.status === 409);
    expect(ok).toHaveLength(1);
    expect(conflicts).toHaveLength(49);
    for (const c of conflicts) expect(c.body).toMatchObject({ error_code: 40971 });
    expect(results.some((r) => r.status >= 500)).toBe(false);

    const client = new DekRegistryClient({ baseUrls: registry.url });
    expect(await client.listDekVersions(kek, subject)).toEqual([1]);
    const stored = await client.getDek(kek, subject, -1, 'AES256_GCM');
    expect(stored?.encryptedKeyMaterial).toBe((ok[0]?.body as { encryptedKeyMaterial: string }).encryptedKeyMaterial);
  });

  it('parallel creates of the next version (rotation race): one winner per version', async () => {
    const kek = await createKek(true);
    const subject = `${uniq('rot')}-value`;
    const client = new DekRegistryClient({ baseUrls: registry.url });
    await client.createDek(kek, { subject, version: 1 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.createDek(kek, { subject, version: 2 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'REGISTRY_CONFLICT', errorCode: 40971 });
    expect(await client.listDekVersions(kek, subject)).toEqual([1, 2]);
  });

  it('20 parallel creates of one KEK: one winner', async () => {
    const name = uniq('kek');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => call(registry.url, 'POST', '/dek-registry/v1/keks', { name, kmsType: 'local-kms', kmsKeyId: 'mykey' })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
  });

  it('20 parallel registrations of one schema: one id, one version', async () => {
    const subject = `${uniq('reg')}-value`;
    const results = await Promise.all(Array.from({ length: 20 }, () => call(registry.url, 'POST', `/subjects/${subject}/versions`, { schema: '"string"' })));
    expect(new Set(results.map((r) => (r.body as { id: number }).id)).size).toBe(1);
    expect((await call(registry.url, 'GET', `/subjects/${subject}/versions`)).body).toEqual([1]);
  });
});
