// `rewrap-deks --switch` on a KEK without DEKs (issue 21 #4) where the registry cannot move a KEK, as
// Confluent's cannot: an in-process dev registry behind an HTTP client that answers 404 for the dev-only
// x-recrypt-rekey endpoint. The KEK is deleted (soft, then permanently) and created again with the new
// key id, after the new key has wrapped a probe; a KEK with DEKs is never deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewrapDeks } from '../../../src/audit/rewrap.js';
import { newDekMaterial } from '../../../src/crypto/dek-proto.js';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { DekRegistryClient, RegistryError, RegistryHttpClient } from '../../../src/registry/index.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import type { KmsDriver, KmsDriverRegistry } from '../../../src/kms/kms-driver.js';
import { RecryptError } from '../../../src/util/errors.js';

const SECRET = 'rewrap-dekless-secret';
let registry: DevRegistry;
beforeAll(async () => { registry = await startDevRegistry({ port: 0, localSecret: SECRET }); });
afterAll(async () => { await registry.close(); });

/** A "Confluent" client: the same registry, without the dev-only endpoint; records every request. */
function confluentLike(requests: string[]): DekRegistryClient {
  const real = new RegistryHttpClient({ baseUrls: [registry.url] });
  const http = Object.create(real) as RegistryHttpClient;
  http.request = (async (method: string, path: string, options?: Parameters<RegistryHttpClient['request']>[2]) => {
    requests.push(`${method} ${path}${options?.query?.['permanent'] === true ? '?permanent' : ''}`);
    if (path.endsWith('/x-recrypt-rekey')) throw new RegistryError('REGISTRY_NOT_FOUND', 'HTTP 404', { method, path, status: 404, errorCode: 404 });
    return real.request(method, path, options);
  }) as RegistryHttpClient['request'];
  return new DekRegistryClient({ http });
}

/** local-kms where key ids starting with `missing` do not exist. */
function kms(): KmsDriverRegistry {
  const local = new LocalKmsDriver({ secret: SECRET });
  const driver: KmsDriver = {
    kmsType: 'local-kms',
    wrap: (keyId, p, props) => (keyId.startsWith('missing') ? Promise.reject(new RecryptError('KMS_KEY_NOT_FOUND', `local-kms wrap with key ${keyId} failed: key not found`)) : local.wrap(keyId, p, props)),
    unwrap: (keyId, c, props) => local.unwrap(keyId, c, props),
  };
  return { get: () => driver };
}

describe('rewrap-deks --switch, a KEK without DEKs, on a registry that cannot move KEKs', () => {
  it('checks the new key, then deletes and creates the KEK again with it', async () => {
    const requests: string[] = [];
    const client = confluentLike(requests);
    const name = `dekless-${Date.now()}`;
    await client.createKek({ name, kmsType: 'local-kms', kmsKeyId: 'missing-typo', shared: false, doc: 'pii' });

    const refused = rewrapDeks({ dekRegistry: client, kms: kms(), kmsProps: {}, kekName: name, newKmsKeyId: 'missing-again', switchPrimary: true });
    await expect(refused).rejects.toMatchObject({ code: 'KMS_KEY_NOT_FOUND' });
    expect((await client.getKek(name))?.kmsKeyId).toBe('missing-typo');

    requests.length = 0;
    const result = await rewrapDeks({ dekRegistry: client, kms: kms(), kmsProps: {}, kekName: name, newKmsKeyId: 'right-key', switchPrimary: true });
    expect(result).toMatchObject({ ok: true, mode: 'switch', deks: [], to: { kmsType: 'local-kms', kmsKeyId: 'right-key' } });
    expect(result.kekUpdates.at(-1)).toContain('deleted and created again');
    const kekPath = `/dek-registry/v1/keks/${name}`;
    expect(requests.filter((r) => r.startsWith('DELETE') || r.startsWith('POST'))).toEqual([
      `POST ${kekPath}/x-recrypt-rekey`, `DELETE ${kekPath}`, `DELETE ${kekPath}?permanent`, 'POST /dek-registry/v1/keks',
    ]);
    expect(await client.getKek(name)).toMatchObject({ kmsKeyId: 'right-key', shared: false, doc: 'pii' });
  });

  it('a KEK with a DEK is never deleted: the switch is refused as before and the KEK stays', async () => {
    const requests: string[] = [];
    const client = confluentLike(requests);
    const name = `withdek-${Date.now()}`;
    await client.createKek({ name, kmsType: 'local-kms', kmsKeyId: 'old-key', shared: false });
    const wrapped = await new LocalKmsDriver({ secret: SECRET }).wrap('old-key', newDekMaterial('AES256_GCM'), {});
    await client.createDek(name, { subject: 's-value', version: 1, algorithm: 'AES256_GCM', encryptedKeyMaterial: Buffer.from(wrapped).toString('base64') });
    await expect(rewrapDeks({ dekRegistry: client, kms: kms(), kmsProps: {}, kekName: name, newKmsKeyId: 'new-key', switchPrimary: true })).rejects.toMatchObject({ code: 'REGISTRY_INVALID' });
    expect(requests.some((r) => r.startsWith('DELETE'))).toBe(false);
    expect((await client.getKek(name))?.kmsKeyId).toBe('old-key');
  });
});
