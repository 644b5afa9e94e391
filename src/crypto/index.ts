/** The crypto/ public API: field ciphers, DEK material, version prefix and strict base64. */
export type { FieldCipher } from './types.js';
export { createAesGcmFieldCipher, AES_GCM_KEY_SIZES, GCM_IV_SIZE, GCM_TAG_SIZE, type AesGcmAlgorithm } from './aes-gcm.js';
export { AesSiv, createAesSivFieldCipher, MAX_ASSOCIATED_DATA, type BoundSiv } from './aes-siv.js';
export { AesCmac } from './aes-cmac.js';
export { cipherFromDekProto, newDekMaterial, dekKeySize } from './dek-proto.js';
// Only for the engine's worker threads (engine/threads/): never logged, never in an error.
export { dekMaterialForThread, retainDekMaterialForThreads, type DekMaterial } from './thread-material.js';
export {
  withVersionPrefix,
  splitVersionPrefix,
  VERSION_PREFIX_MAGIC,
  VERSION_PREFIX_SIZE,
  type VersionedCiphertext,
} from './version-prefix.js';
export { decodeBase64, decodeBase64Bytes, encodeBase64 } from './base64.js';
