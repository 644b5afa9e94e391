// One AES256_SIV DEK registered by hand under several subjects: what a join group does, done outside
// recrypt, so the harness's positive path (the SIV join equals the plaintext join) is checked today.
import { randomBytes } from 'node:crypto';
import { LocalKmsDriver } from '../../../../src/kms/index.js';
import { DekRegistryClient } from '../../../../src/registry/index.js';
import { stack } from '../../helpers/stack.js';

/** The key id the SIV jobs' rule names (local-kms ignores it, the KEK records it). */
export const JOIN_KMS_KEY_ID = 'join-key';

/**
 * Creates the local-kms KEK `kek` and version 1 of one AES256_SIV DEK under every subject: the same
 * wrapped key material each time (Tink's AesSivKey proto, `12 40 <64 key bytes>`), as Confluent clients
 * read it. recrypt then finds the DEKs and encrypts with them instead of creating one per subject.
 */
export async function shareSivDek(kek: string, subjects: string[]): Promise<void> {
  const registry = new DekRegistryClient({ baseUrls: [stack.registryUrl] });
  await registry.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: JOIN_KMS_KEY_ID, shared: false });
  const proto = Buffer.concat([Buffer.from([0x12, 0x40]), randomBytes(64)]);
  const wrapped = await new LocalKmsDriver({ secret: stack.localSecret, env: {} }).wrap(JOIN_KMS_KEY_ID, proto, {});
  const encryptedKeyMaterial = Buffer.from(wrapped).toString('base64');
  for (const subject of subjects) {
    await registry.createDek(kek, { subject, version: 1, algorithm: 'AES256_SIV', encryptedKeyMaterial });
  }
}
