/**
 * Re-wrapping one DEK under another KMS key (`recrypt rewrap-deks`; audit/rewrap.ts decides which DEKs
 * and writes them back through the DEK registry client). The DEK bytes stay the same, only their
 * wrapping changes: the DEK is unwrapped under its KEK (the KEK's key id, then its alternates, by the
 * one walk of kek-kms.ts), checked to be a DEK of its algorithm, wrapped under the new KEK's key id,
 * and the new ciphertext is unwrapped again and compared to the original bytes before it is handed
 * back. The new key is used alone (no alternates): the point is that it, and not a fallback, works.
 *
 * Plaintext DEK bytes live only inside one call and are wiped before it returns; errors carry KEK
 * names, subjects, versions and codes, never key material.
 */
import { timingSafeEqual } from 'node:crypto';
import { cipherFromDekProto } from '../crypto/dek-proto.js';
import type { KmsDriverRegistry, KmsProps } from '../kms/kms-driver.js';
import type { Dek, Kek } from '../registry/types.js';
import { isTransient, RecryptError } from '../util/errors.js';
import { kmsKeyIdsFor, kmsPropsFor, runWithKeyIds } from './kek-kms.js';

export interface DekRewrapperOptions {
  readonly kms: KmsDriverRegistry;
  /** Base KMS props (e.g. the local-kms secret); each KEK's kmsProps override them. */
  readonly kmsProps: KmsProps;
}

/** Moves DEKs of `from` (their current wrapping) to `to` (the KEK as it will be: new kms type or key id). */
export class DekRewrapper {
  readonly #kms: KmsDriverRegistry;
  readonly #base: KmsProps;
  readonly #from: Kek;
  readonly #to: Kek;

  constructor(options: DekRewrapperOptions, from: Kek, to: Kek) {
    this.#kms = options.kms;
    this.#base = options.kmsProps;
    this.#from = from;
    this.#to = to;
  }

  /**
   * The new encryptedKeyMaterial (base64), verified; null when the DEK already unwraps under the new
   * key and `force` is off (an interrupted run is finished by running again). A transient KMS failure
   * is thrown as it is; so is a permanent one (the caller records its code for this DEK).
   */
  async rewrap(dek: Dek, force: boolean): Promise<string | null> {
    const wrapped = wrappedMaterialOf(dek);
    let plain: Uint8Array | undefined;
    let check: Uint8Array | undefined;
    try {
      if (!force) {
        const already = await this.#unwrapUnderNew(wrapped);
        if (already !== null) {
          already.fill(0); // only its presence mattered: the DEK unwraps under the new key already
          return null;
        }
      }
      // The current key and its alternates, as every client tries them.
      plain = await runWithKeyIds(this.#kms, this.#from, kmsKeyIdsFor(this.#from, [], this.#base), kmsPropsFor(this.#base, this.#from), 'unwrap', wrapped);
      // The bytes must be a DEK of the stated algorithm before they are wrapped again.
      cipherFromDekProto(dek.algorithm, plain);
      const props = kmsPropsFor(this.#base, this.#to);
      const rewrapped = await runWithKeyIds(this.#kms, this.#to, [this.#to.kmsKeyId], props, 'wrap', plain);
      check = await runWithKeyIds(this.#kms, this.#to, [this.#to.kmsKeyId], props, 'unwrap', rewrapped);
      if (check.length !== plain.length || !timingSafeEqual(check, plain)) {
        throw new RecryptError('KMS_UNWRAP_FAILED', `re-wrapped DEK ${describeDek(dek)} does not unwrap to the original DEK under the new key`);
      }
      return Buffer.from(rewrapped).toString('base64');
    } finally {
      plain?.fill(0);
      check?.fill(0);
    }
  }

  /** True when the DEK as stored unwraps under the new key to a valid DEK of its algorithm. */
  async unwrapsUnderNew(dek: Dek): Promise<boolean> {
    const plain = await this.#unwrapUnderNew(wrappedMaterialOf(dek));
    if (plain === null) return false;
    try {
      cipherFromDekProto(dek.algorithm, plain);
      return true;
    } catch {
      return false;
    } finally {
      plain.fill(0);
    }
  }

  /** The DEK bytes under the new key alone; null when that key refuses them, a transient failure thrown. */
  async #unwrapUnderNew(wrapped: Uint8Array): Promise<Uint8Array | null> {
    try {
      return await runWithKeyIds(this.#kms, this.#to, [this.#to.kmsKeyId], kmsPropsFor(this.#base, this.#to), 'unwrap', wrapped);
    } catch (err) {
      if (isTransient(err)) throw err;
      return null;
    }
  }
}

/** `subject algorithm vN`: how errors name a DEK. */
export function describeDek(d: Pick<Dek, 'subject' | 'algorithm' | 'version'>): string {
  return `${d.subject} ${d.algorithm} v${d.version}`;
}

function wrappedMaterialOf(dek: Dek): Buffer {
  const m = dek.encryptedKeyMaterial;
  if (m === undefined || m === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(m) || m.length % 4 !== 0) {
    throw new RecryptError('CRYPTO_BAD_KEY', `DEK ${describeDek(dek)} has no valid encryptedKeyMaterial`);
  }
  return Buffer.from(m, 'base64');
}
