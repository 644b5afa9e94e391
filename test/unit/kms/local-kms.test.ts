import { LocalKmsClient } from '@confluentinc/schemaregistry/dist/rules/encryption/localkms/local-client.js';
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher } from '../../../src/crypto/aes-gcm.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import { expectRecryptErrorAsync, flipBit, hex } from '../crypto/helpers.js';

// CSFLE-NOTES section 3: HKDF-SHA256("mysecret", no salt, empty info, 16 bytes).
const MYSECRET_KEK = hex('1ae4d97ac1e81594bfd1993c1a75ee36');
const DEK = Buffer.concat([hex('1a20'), Buffer.alloc(32, 0x33)]);

describe('LocalKmsDriver', () => {
  it('serves kms type local-kms', () => {
    expect(new LocalKmsDriver().kmsType).toBe('local-kms');
  });

  it('derives KEK 1ae4d97ac1e81594bfd1993c1a75ee36 from "mysecret" and uses it as AES128-GCM', async () => {
    const driver = new LocalKmsDriver({ secret: 'mysecret' });
    const reference = createAesGcmFieldCipher('AES128_GCM', MYSECRET_KEK);
    const wrapped = await driver.wrap('mykey', DEK, {});
    expect(wrapped.length).toBe(12 + DEK.length + 16);
    expect(reference.decrypt(wrapped).equals(DEK)).toBe(true);
    expect(Buffer.from(await driver.unwrap('mykey', reference.encrypt(DEK), {})).equals(DEK)).toBe(true);
  });

  it('ignores the key id, as every Confluent client does', async () => {
    const driver = new LocalKmsDriver({ secret: 'mysecret' });
    const wrapped = await driver.wrap('key-a', DEK, {});
    expect(Buffer.from(await driver.unwrap('something-else', wrapped, {})).equals(DEK)).toBe(true);
  });

  it('takes the secret from props, then the constructor option, then env LOCAL_SECRET', async () => {
    const fromEnv = new LocalKmsDriver({ env: { LOCAL_SECRET: 'mysecret' } });
    const fromOption = new LocalKmsDriver({ secret: 'mysecret', env: { LOCAL_SECRET: 'other' } });
    const fromProps = new LocalKmsDriver({ secret: 'other', env: { LOCAL_SECRET: 'other' } });
    const reference = createAesGcmFieldCipher('AES128_GCM', MYSECRET_KEK);
    expect(reference.decrypt(await fromEnv.wrap('k', DEK, {})).equals(DEK)).toBe(true);
    expect(reference.decrypt(await fromOption.wrap('k', DEK, {})).equals(DEK)).toBe(true);
    expect(reference.decrypt(await fromProps.wrap('k', DEK, { secret: 'mysecret' })).equals(DEK)).toBe(true);
  });

  it('fails with KMS_CONFIG when no secret is configured (an empty string counts as none)', async () => {
    const driver = new LocalKmsDriver({ env: {} });
    await expectRecryptErrorAsync(() => driver.wrap('k', DEK, {}), 'KMS_CONFIG');
    await expectRecryptErrorAsync(() => driver.unwrap('k', DEK, { secret: '' }), 'KMS_CONFIG');
    await expectRecryptErrorAsync(() => new LocalKmsDriver({ secret: '', env: { LOCAL_SECRET: '' } }).wrap('k', DEK, {}), 'KMS_CONFIG');
  });

  it('fails with KMS_UNWRAP_FAILED under the wrong secret, on tampering and on truncation', async () => {
    const driver = new LocalKmsDriver({ secret: 'mysecret' });
    const wrapped = await driver.wrap('k', DEK, {});
    await expectRecryptErrorAsync(() => driver.unwrap('k', wrapped, { secret: 'nope' }), 'KMS_UNWRAP_FAILED');
    await expectRecryptErrorAsync(() => driver.unwrap('k', flipBit(wrapped, 20), {}), 'KMS_UNWRAP_FAILED');
    await expectRecryptErrorAsync(() => driver.unwrap('k', wrapped.subarray(0, 20), {}), 'KMS_UNWRAP_FAILED');
  });

  it('keeps one derived KEK per secret (several secrets side by side)', async () => {
    const driver = new LocalKmsDriver({ secret: 'a' });
    const wa = await driver.wrap('k', DEK, {});
    const wb = await driver.wrap('k', DEK, { secret: 'b' });
    expect(Buffer.from(await driver.unwrap('k', wa, {})).equals(DEK)).toBe(true);
    expect(Buffer.from(await driver.unwrap('k', wb, { secret: 'b' })).equals(DEK)).toBe(true);
    await expectRecryptErrorAsync(() => driver.unwrap('k', wb, {}), 'KMS_UNWRAP_FAILED');
  });

  it('interoperates with the Confluent JS local KMS client in both directions', async () => {
    const oracle = new LocalKmsClient('mysecret');
    const driver = new LocalKmsDriver({ secret: 'mysecret' });
    expect(Buffer.from(await driver.unwrap('k', await oracle.encrypt(DEK), {})).equals(DEK)).toBe(true);
    expect((await oracle.decrypt(Buffer.from(await driver.wrap('k', DEK, {})))).equals(DEK)).toBe(true);
  });

  it('never puts the secret into errors', async () => {
    const secret = 'CANARY-local-secret-7f3a';
    const driver = new LocalKmsDriver({ secret });
    const err = await expectRecryptErrorAsync(() => driver.unwrap('k', Buffer.alloc(40), {}), 'KMS_UNWRAP_FAILED');
    expect(`${err.toString()} ${String(err.cause)} ${err.stack ?? ''}`).not.toContain(secret);
  });
});
