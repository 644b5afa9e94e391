/**
 * The primitives the rest of recrypt sees. A FieldCipher is a DEK made usable: it encrypts and decrypts
 * but never hands out its key bytes. GCM ciphers draw their own IV; SIV is deterministic by design.
 */
import type { DekAlgorithm } from '../model/index.js';

export interface FieldCipher {
  readonly algorithm: DekAlgorithm;
  /** Output layout per CSFLE-NOTES section 2 (no version prefix: see crypto/version-prefix). */
  encrypt(plaintext: Uint8Array): Buffer;
  /** Throws RecryptError CRYPTO_DECRYPT on authentication failure, CRYPTO_BAD_CIPHERTEXT when too short. */
  decrypt(ciphertext: Uint8Array): Buffer;
}
