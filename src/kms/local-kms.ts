/**
 * local-kms: Confluent's KMS for development and tests. The KEK is derived from a shared secret,
 * HKDF-SHA256(ikm = UTF-8 secret, salt = empty, info = empty, 16 bytes), used as AES128-GCM with the
 * usual IV | ciphertext | tag layout. The key id is ignored, as in every Confluent client.
 * Secret: the KEK's `secret` prop, else the constructor option, else `env.LOCAL_SECRET`.
 *
 * recrypt reads LOCAL_SECRET / LOCAL_SECRET_FILE in service/config.ts and runtime/kms.ts hands the
 * secret in with an empty `env`, so recrypt's own drivers read no env here. Only a driver built
 * without options looks at process.env: the dev registry's default local-kms (devregistry/server.ts),
 * whose starters do not pass the secret in yet.
 */
import { hkdfSync } from 'node:crypto';
import { createAesGcmFieldCipher } from '../crypto/aes-gcm.js';
import type { FieldCipher } from '../crypto/types.js';
import { isRecryptError, RecryptError } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';

export const LOCAL_KMS_TYPE = 'local-kms';
export const LOCAL_SECRET_ENV = 'LOCAL_SECRET';
const KEK_SIZE = 16;

export interface LocalKmsOptions {
  /** Used when a KEK's props carry no `secret`. Comes from env or a mounted file, never job YAML. */
  secret?: string;
  /**
   * Where LOCAL_SECRET is looked up when neither the KEK nor `secret` gives one. Defaults to
   * process.env for the dev registry's default driver; recrypt's runtime passes {} (see above).
   */
  env?: Readonly<Record<string, string | undefined>>;
}

export class LocalKmsDriver implements KmsDriver {
  readonly kmsType = LOCAL_KMS_TYPE;
  readonly #secret: string | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  /** Derivation is cheap but not free; a worker sees the same one or two secrets for its lifetime. */
  readonly #keks = new Map<string, FieldCipher>();

  constructor(options: LocalKmsOptions = {}) {
    this.#secret = options.secret;
    this.#env = options.env ?? process.env;
  }

  async wrap(_kmsKeyId: string, plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    return this.#kek(props).encrypt(plaintext);
  }

  async unwrap(_kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const kek = this.#kek(props);
    try {
      return kek.decrypt(ciphertext);
    } catch (err) {
      if (isRecryptError(err) && (err.code === 'CRYPTO_DECRYPT' || err.code === 'CRYPTO_BAD_CIPHERTEXT')) {
        throw new RecryptError('KMS_UNWRAP_FAILED', 'local-kms could not decrypt the DEK (wrong secret or corrupt material)', {
          cause: err,
        });
      }
      throw err;
    }
  }

  #kek(props: KmsProps): FieldCipher {
    const secret = nonEmpty(props['secret']) ?? nonEmpty(this.#secret) ?? nonEmpty(this.#env[LOCAL_SECRET_ENV]);
    if (secret === undefined) {
      throw new RecryptError('KMS_CONFIG', `local-kms needs a secret: set the KEK prop "secret" or env ${LOCAL_SECRET_ENV} (or ${LOCAL_SECRET_ENV}_FILE)`);
    }
    let kek = this.#keks.get(secret);
    if (kek === undefined) {
      const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), Buffer.alloc(0), KEK_SIZE));
      kek = createAesGcmFieldCipher('AES128_GCM', key);
      key.fill(0); // the KeyObject holds its own copy
      this.#keks.set(secret, kek);
    }
    return kek;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
