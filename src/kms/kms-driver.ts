/**
 * The one interface every KMS sits behind: wrap and unwrap DEK bytes under a KEK. Drivers never cache
 * DEKs (keys/ does) and never put plaintext or key material into errors or logs.
 */

/** Connection settings for one KEK: the client's config overlaid with the KEK's `kmsProps`. */
export type KmsProps = Readonly<Record<string, string>>;

export interface KmsDriver {
  /** The `encrypt.kms.type` this driver serves, e.g. `aws-kms`, `local-kms`. */
  readonly kmsType: string;
  /** Encrypts DEK bytes (a serialized Tink key proto) under the KMS key. */
  wrap(kmsKeyId: string, plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array>;
  /** Decrypts bytes produced by wrap (or by any Confluent client for the same key). */
  unwrap(kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps): Promise<Uint8Array>;
}

/** Looks up the driver for a kms type; throws RecryptError KMS_UNSUPPORTED_TYPE when none. */
export interface KmsDriverRegistry {
  get(kmsType: string): KmsDriver;
}
