// keys/rewrap.ts: one DEK re-wrapped under another KMS key, over the one walk of KMS key ids. A fake
// KMS "wraps" by prefixing the key id, so the test sees which key wrapped what; key ids can be made to
// fail transiently.
import { describe, expect, it } from 'vitest';
import { newDekMaterial } from '../../../src/crypto/dek-proto.js';
import { DekRewrapper } from '../../../src/keys/index.js';
import type { KmsDriver, KmsDriverRegistry } from '../../../src/kms/kms-driver.js';
import type { Dek, Kek } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { rejection } from '../kms/leak-check.js';

class PrefixKms implements KmsDriverRegistry {
  readonly calls: string[] = [];
  readonly down = new Set<string>();
  readonly #driver: KmsDriver = {
    kmsType: 'test-kms',
    wrap: async (id, plaintext) => {
      this.#enter('wrap', id);
      return Buffer.concat([Buffer.from(`${id}:`), plaintext]);
    },
    unwrap: async (id, ciphertext) => {
      this.#enter('unwrap', id);
      const prefix = Buffer.from(`${id}:`);
      if (!Buffer.from(ciphertext).subarray(0, prefix.length).equals(prefix)) throw new RecryptError('KMS_UNWRAP_FAILED', `unwrap with key ${id} failed`);
      return Buffer.from(ciphertext).subarray(prefix.length);
    },
  };

  get(): KmsDriver {
    return this.#driver;
  }

  #enter(op: string, id: string): void {
    this.calls.push(`${op}:${id}`);
    if (this.down.has(id)) throw new RecryptError('KMS_UNAVAILABLE', `key ${id} unreachable`);
  }
}

const OLD: Kek = { name: 'kek1', kmsType: 'test-kms', kmsKeyId: 'old', shared: false, kmsProps: { 'encrypt.alternate.kms.key.ids': 'replica' } };
const NEW: Kek = { ...OLD, kmsKeyId: 'new', kmsProps: {} };
const material = newDekMaterial('AES256_GCM');
const dekUnder = (keyId: string, bytes: Uint8Array = material): Dek => ({
  kekName: 'kek1', subject: 'orders-value', version: 2, algorithm: 'AES256_GCM', ts: 1,
  encryptedKeyMaterial: Buffer.concat([Buffer.from(`${keyId}:`), bytes]).toString('base64'),
});

describe('DekRewrapper', () => {
  it('unwraps under the old key, wraps under the new one, checks it unwraps back to the same DEK', async () => {
    const kms = new PrefixKms();
    const out = await new DekRewrapper({ kms, kmsProps: {} }, OLD, NEW).rewrap(dekUnder('old'), false);
    expect(Buffer.from(out!, 'base64')).toEqual(Buffer.concat([Buffer.from('new:'), material]));
    expect(kms.calls).toEqual(['unwrap:new', 'unwrap:old', 'wrap:new', 'unwrap:new']);
  });

  it('a DEK already under the new key is left alone, unless forced (in-place rewrap)', async () => {
    const kms = new PrefixKms();
    const rewrapper = new DekRewrapper({ kms, kmsProps: {} }, OLD, NEW);
    expect(await rewrapper.rewrap(dekUnder('new'), false)).toBeNull();
    expect(await rewrapper.unwrapsUnderNew(dekUnder('new'))).toBe(true);
    expect(await rewrapper.unwrapsUnderNew(dekUnder('old'))).toBe(false);
    const inPlace = new DekRewrapper({ kms, kmsProps: {} }, NEW, NEW);
    expect(Buffer.from((await inPlace.rewrap(dekUnder('new'), true))!, 'base64')).toEqual(Buffer.concat([Buffer.from('new:'), material]));
  });

  it('the old key unreachable: the walk moves on to its alternate (same rule as every DEK read)', async () => {
    const kms = new PrefixKms();
    kms.down.add('old');
    const out = await new DekRewrapper({ kms, kmsProps: {} }, OLD, NEW).rewrap(dekUnder('replica'), false);
    expect(out).not.toBeNull();
    expect(kms.calls).toEqual(['unwrap:new', 'unwrap:old', 'unwrap:replica', 'wrap:new', 'unwrap:new']);
  });

  it('a transient failure is thrown as transient (the run stops, nothing recorded as failed); a refusal keeps its code', async () => {
    const kms = new PrefixKms();
    kms.down.add('new');
    const rewrapper = new DekRewrapper({ kms, kmsProps: {} }, OLD, NEW);
    expect(await rejection(rewrapper.rewrap(dekUnder('old'), false))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    await expect(rewrapper.unwrapsUnderNew(dekUnder('old'))).rejects.toMatchObject({ code: 'KMS_UNAVAILABLE' });
    const refused = await rejection(new DekRewrapper({ kms: new PrefixKms(), kmsProps: {} }, OLD, NEW).rewrap(dekUnder('elsewhere'), false));
    expect(refused).toMatchObject({ code: 'KMS_UNWRAP_FAILED', transient: false });
  });

  it('refuses bytes that are not a DEK of the stated algorithm, and material that is not base64, without naming the bytes', async () => {
    const kms = new PrefixKms();
    const rewrapper = new DekRewrapper({ kms, kmsProps: {} }, OLD, NEW);
    const junk = Buffer.from('not a tink key proto at all');
    const err = await rejection(rewrapper.rewrap(dekUnder('old', junk), false));
    expect(err).toBeInstanceOf(RecryptError);
    expect(kms.calls).not.toContain('wrap:new');
    expect(String((err as Error).message)).not.toContain(junk.toString('base64'));
    const bad = await rejection(rewrapper.rewrap({ ...dekUnder('old'), encryptedKeyMaterial: 'no!' }, false));
    expect(bad).toMatchObject({ code: 'CRYPTO_BAD_KEY', message: 'DEK orders-value AES256_GCM v2 has no valid encryptedKeyMaterial' });
  });
});
