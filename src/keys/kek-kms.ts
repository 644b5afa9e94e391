/**
 * Wrapping and unwrapping DEK material under a KEK: the primary kms key id first, then the alternate
 * key ids in order (CSFLE-NOTES section 3). The KMS props are the client's base config overlaid with
 * the KEK's `kmsProps`. Errors never carry key material: on total failure we rethrow one of the
 * drivers' RecryptErrors (a transient one if any, so that the work is retried rather than
 * dead-lettered; else the primary key's).
 */
import type { KmsDriverRegistry, KmsProps } from '../kms/kms-driver.js';
import type { Kek } from '../registry/types.js';
import { ENCRYPT_ALTERNATE_KMS_KEY_IDS, parseKeyIdList } from '../rules/encryption-params.js';
import { isRecryptError, RecryptError } from '../util/errors.js';

export type KmsOperation = 'wrap' | 'unwrap';

/** Effective props for one KEK: base config, then the KEK's kmsProps on top. */
export function kmsPropsFor(base: KmsProps, kek: Kek): KmsProps {
  return Object.freeze({ ...base, ...(kek.kmsProps ?? {}) });
}

/**
 * Key ids to try, in order: the KEK's kmsKeyId, then alternates from (first that has any) the KEK's
 * kmsProps, the rule (or schema metadata), the client's base config. Duplicates are dropped.
 */
export function kmsKeyIdsFor(kek: Kek, ruleAlternates: readonly string[], base: KmsProps): string[] {
  let alternates = parseKeyIdList(kek.kmsProps?.[ENCRYPT_ALTERNATE_KMS_KEY_IDS]);
  if (alternates.length === 0) alternates = [...ruleAlternates];
  if (alternates.length === 0) alternates = parseKeyIdList(base[ENCRYPT_ALTERNATE_KMS_KEY_IDS]);
  return [...new Set([kek.kmsKeyId, ...alternates])];
}

export interface KmsAttemptHook {
  (operation: KmsOperation, kmsType: string, ok: boolean): void;
}

/** Runs one KMS operation over the key ids until one succeeds. */
export async function runWithKeyIds(
  kms: KmsDriverRegistry,
  kek: Kek,
  keyIds: readonly string[],
  props: KmsProps,
  operation: KmsOperation,
  input: Uint8Array,
  onAttempt: KmsAttemptHook,
): Promise<Uint8Array> {
  const driver = kms.get(kek.kmsType);
  const failures: RecryptError[] = [];
  for (const keyId of keyIds) {
    try {
      const out = operation === 'wrap' ? await driver.wrap(keyId, input, props) : await driver.unwrap(keyId, input, props);
      onAttempt(operation, kek.kmsType, true);
      return out;
    } catch (err) {
      onAttempt(operation, kek.kmsType, false);
      failures.push(
        isRecryptError(err)
          ? err
          : new RecryptError('INTERNAL', `${kek.kmsType} driver threw a non-RecryptError on ${operation}`, { cause: err }),
      );
    }
  }
  const chosen = failures.find((e) => e.transient) ?? failures[0];
  if (chosen === undefined) {
    throw new RecryptError('KMS_CONFIG', `KEK ${kek.name} has no kms key id to ${operation} with`);
  }
  throw chosen;
}
